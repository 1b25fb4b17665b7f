/**
 * What makes a custom element behave like a native form field from the outside: `name`, `form`,
 * `validity`, `checkValidity()`, `required`, `disabled` …, all backed by ElementInternals.
 * Kept apart from element.js so the picker's own module is about the picker.
 *
 * The internals stay private to the element's modules (a WeakMap, not a public property), so a
 * page script cannot set the field's validity or value behind its back.
 */
const INTERNALS = new WeakMap();

/** The ElementInternals of a field made by `formFieldBase`. */
export function internalsOf(element) {
  return INTERNALS.get(element);
}

/**
 * A base class for form-associated custom elements. A factory, not a module-level class, so
 * importing this module does not need `HTMLElement` (e.g. in unit tests without a DOM).
 */
export function formFieldBase(Base = HTMLElement) {
  return class FormField extends Base {
    static formAssociated = true;

    constructor() {
      super();
      INTERNALS.set(this, this.attachInternals());
    }

    get name() {
      return this.getAttribute('name');
    }

    get form() {
      return internalsOf(this).form;
    }

    get validity() {
      return internalsOf(this).validity;
    }

    get validationMessage() {
      return internalsOf(this).validationMessage;
    }

    get willValidate() {
      return internalsOf(this).willValidate;
    }

    checkValidity() {
      return internalsOf(this).checkValidity();
    }

    reportValidity() {
      return internalsOf(this).reportValidity();
    }

    get required() {
      return this.hasAttribute('required');
    }

    set required(on) {
      this.toggleAttribute('required', Boolean(on));
    }

    get disabled() {
      return this.hasAttribute('disabled');
    }

    set disabled(on) {
      this.toggleAttribute('disabled', Boolean(on));
    }
  };
}
