/**
 * The field's validity, as ElementInternals and assistive technology see it: `required` is said
 * on the combobox itself (not only through the form's validation), and a missing value reports
 * the sentence that fits the mode ("Tryck Klar när området är ritat" when drawing). While the
 * author's fallback field is in use it carries the answer, with its own `required`.
 */

/**
 * @param {ElementInternals} internals
 * @param {{input: HTMLInputElement, fallback: HTMLElement}} refs
 * @param {{required: boolean, hasValue: boolean, message: string}} state
 */
export function updateValidity(internals, refs, { required, hasValue, message }) {
  if (required) refs.input.setAttribute('aria-required', 'true');
  else refs.input.removeAttribute('aria-required');
  if (required && !hasValue && refs.fallback.hidden) {
    internals.setValidity({ valueMissing: true }, message, refs.input);
  } else {
    internals.setValidity({});
  }
}
