/**
 * <webmap-picker>: a form-associated custom element for "where is it?" questions.
 *
 *   <webmap-picker name="location" required lang="sv" center="18.07,59.338" zoom="15">
 *     <label for="loc">Adress eller fastighetsbeteckning</label>
 *     <input id="loc" name="location_text">      ← fallback without JavaScript
 *   </webmap-picker>
 *
 * Its value is a GeoJSON Feature (see value.js), submitted as JSON under `name`. It takes part
 * in validation (`required`, `allowed-area`), `form.reset()`, `disabled` fieldsets and
 * back/forward restore, through ElementInternals. While it works, the author's fallback inputs
 * are disabled (so only one answer is submitted); if the map and the search both fail they are
 * shown and enabled again, and the form still completes.
 *
 * Attributes: name, required, disabled, label (the question, its accessible name), lang (sv|en),
 * server, center ("lon,lat"), zoom, layers (catalog layers drawn over the basemap, comma-separated),
 * min-zoom-to-choose, allowed-area (municipality code), allowed-area-name (its name, for the
 * refusal's words), mode (point | line | polygon), search-placeholder (the search field's examples).
 */
import { USER, createAnnouncer } from './announcer.js';
import { createLookup } from './api.js';
import { CHANGE, ERROR, READY, emit } from './events.js';
import { strings } from './i18n/index.js';
import { createDrawing } from './drawing.js';
import { formFieldBase, internalsOf } from './form-field.js';
import { locate } from './geolocate.js';
import { createHint } from './gesture-hint.js';
import { createHelp } from './help.js';
import { showMapFailed } from './map-failure.js';
import { createMarker } from './marker.js';
import { createSearch } from './search.js';
import { buildPicker } from './template.js';
import { createToolbar } from './toolbar.js';
import {
  hideError,
  hideRefusal,
  renderChosen,
  setControlsDisabled,
  setFallbackEnabled,
  showError,
  showRefusal,
} from './view-state.js';
import { createWhereabouts } from './whereabouts.js';
import {
  formValue,
  outsideRefusal,
  parseFormValue,
  refusal,
  valueFromReverse,
  valueFromSearch,
  valueFromShape,
} from './value.js';
import { OSTERMALM } from '../shared/geo.js';

function number(value, fallback) {
  const parsed = Number.parseFloat(value);
  return Number.isFinite(parsed) ? parsed : fallback;
}

export function definePicker(stylesheets, createMapView) {
  // name, form, validity, checkValidity(), required, disabled …: see form-field.js.
  class WebmapPicker extends formFieldBase() {
    static observedAttributes = ['required', 'disabled'];

    #internals;
    #t;
    #refs = {};
    #value = null;
    #announcer = null;
    #search = null;
    #mapView = null;
    #marker = null;
    #lookup = null;
    #lastZoom = null;
    #hint = null;
    #help = null;
    #rendered = false;
    #searchOk = true;
    #mapOk = true;
    #busy = null;
    #whereabouts = null;
    #mode = 'point';
    #drawing = null;
    #tapped = null;
    #refused = null;

    constructor() {
      super();
      this.#internals = internalsOf(this);
      // delegatesFocus: focus() and reportValidity() land on the search field inside.
      const shadow = this.attachShadow({ mode: 'open', delegatesFocus: true });
      shadow.adoptedStyleSheets = stylesheets;
    }

    /** The chosen place as a GeoJSON Feature, or null. */
    get value() {
      return this.#value ? structuredClone(this.#value) : null;
    }

    set value(feature) {
      const parsed = typeof feature === 'string' ? parseFormValue(feature) : parseFormValue(JSON.stringify(feature ?? null));
      this.#setValue(parsed, { announce: false });
    }

    get minZoomToChoose() {
      return number(this.getAttribute('min-zoom-to-choose'), 15);
    }

    connectedCallback() {
      if (this.#rendered) return;
      this.#rendered = true;
      this.#t = strings(this.getAttribute('lang') || this.closest('[lang]')?.getAttribute('lang'));
      const mode = this.getAttribute('mode');
      this.#mode = mode === 'line' || mode === 'polygon' ? mode : 'point';
      const { root, refs } = buildPicker(this.#t, this.getAttribute('label'), this.#mode);
      this.#refs = refs;
      const placeholder = this.getAttribute('search-placeholder');
      if (placeholder !== null) refs.input.placeholder = placeholder;
      this.shadowRoot.append(root);
      this.#announcer = createAnnouncer(refs.live);
      const announce = (text, priority) => this.#announcer.announce(text, priority);
      this.#hint = createHint(refs.gestureHint, { t: this.#t, announce });
      this.#help = createHelp(refs);
      this.#lookup = createLookup(this.getAttribute('server'));
      this.#whereabouts = createWhereabouts({
        reverse: (lon, lat, options) => this.#lookup.reverse(lon, lat, options),
        t: this.#t,
        announce,
      });
      setFallbackEnabled(this, this.#refs, false);
      this.#wireButtons();
      createToolbar(refs.tools);
      // Keyboard focus on the map: say at once where the crosshair is (a click chooses instead).
      refs.map.addEventListener('focus', () => refs.map.matches(':focus-visible') && this.#tellWhere(0));
      if (this.#mode !== 'point') {
        this.#drawing = createDrawing({
          mode: this.#mode,
          t: this.#t,
          announce,
          done: refs.done,
          canAdd: () =>
            this.#mapView && refusal({ zoom: this.#mapView.state().zoom, minZoom: this.minZoomToChoose })
              ? this.#zoomRefusal()
              : null,
          refuse: (text, kind) => this.#refuse(text, kind),
          added: () => this.#clearRefusal(),
        });
      }
      this.#search = createSearch({
        input: refs.input,
        listbox: refs.listbox,
        t: this.#t,
        search: (q, signal) => this.#lookup.search(q, { signal, near: this.#mapView?.state().center }),
        onPick: (feature) => this.#pickResult(feature),
        announce: (text) => this.#announcer.announce(text, USER),
        onError: (error) => this.#failed('search', error),
      });
      if (!('geolocation' in navigator)) refs.locate.hidden = true;
      this.addEventListener('invalid', () => showError(this.#refs, this.validationMessage));
      this.#updateValidity();
      this.#startMap();
    }

    disconnectedCallback() {
      // Kept rendered: moving the element in the DOM must not lose the map or the value.
    }

    attributeChangedCallback(name) {
      if (name === 'required') this.#updateValidity();
      if (name === 'disabled') this.formDisabledCallback(this.disabled || this.matches(':disabled'));
    }

    formResetCallback() {
      this.#search?.clear();
      this.#drawing?.clear();
      this.#setValue(null, { announce: false });
      hideError(this.#refs);
      this.#clearRefusal();
    }

    formDisabledCallback(disabled) {
      setControlsDisabled(this.shadowRoot, this.#refs, disabled, this.#mapOk);
    }

    formStateRestoreCallback(state) {
      this.#setValue(parseFormValue(state), { announce: false });
    }

    // --- the map -------------------------------------------------------------------------

    async #startMap() {
      const center = (this.getAttribute('center') || '').split(',').map(Number);
      const view = {
        center: center.length === 2 && center.every(Number.isFinite) ? center : OSTERMALM.center,
        zoom: number(this.getAttribute('zoom'), OSTERMALM.zoom),
      };
      try {
        this.#mapView = createMapView(this.#refs.map, {
          styleUrl: new URL('styles/basemap.json', this.#lookup.base).href,
          overlays: (this.getAttribute('layers') || '')
            .split(',')
            .map((name) => name.trim())
            .filter((name) => /^[\w-]+$/u.test(name))
            .map((name) => new URL(`tiles/${encodeURIComponent(name)}.json`, this.#lookup.base).href),
          onOverlayError: (url, error) => emit(this, ERROR, { kind: 'map', message: `${url}: ${error.message}` }),
          ...view,
          onMoveEnd: (state) => this.#onMoveEnd(state),
          onChoose: () => (this.#drawing ? this.#drawing.add() : this.#choose()),
          onPoint: (lonLat) => this.#pointAt(lonLat),
          onDelete: this.#drawing ? () => this.#drawing.removeLast() : undefined,
          onUndo: this.#drawing ? () => this.#drawing.undo() : undefined,
          onKey: this.#drawing ? (event) => this.#drawing.key(event) : undefined,
          onHelp: () => this.#help.toggle(),
          onEscape: () => this.#help.toggle(false),
          onGestureHint: (kind) => this.#hint.gesture(kind),
          // The first two-finger pan while the touch hint shows: the person has got it.
          onTwoFingerPan: () => this.#hint.showing && this.#hint.dismiss(),
        });
        this.#marker = createMarker(this.#mapView.map);
        this.#drawing?.attach(this.#mapView);
        await this.#mapView.ready;
        this.#refs.map.dataset.state = 'ready';
        // When the first tiles were drawn, in ms since navigation (bench/widget.py reads it).
        this.#refs.map.dataset.readyMs = String(Math.round(performance.now()));
        emit(this, READY, { map: true });
      } catch (error) {
        this.#mapOk = false;
        this.#announcer.announce(showMapFailed(this, this.#refs, this.#t), USER);
        this.#updateValidity();
        this.#failed('map', error);
        emit(this, READY, { map: false });
      }
    }

    #onMoveEnd({ center, zoom }) {
      const rounded = Math.round(zoom);
      const first = this.#lastZoom === null;
      const zoomChanged = rounded !== this.#lastZoom;
      this.#lastZoom = rounded;
      if (first) return;
      // The map came to rest where it was clicked: the choice speaks for it, not the ambient news.
      const tapped = this.#tapped;
      this.#tapped = null;
      if (tapped && !zoomChanged && Math.hypot(tapped[0] - center[0], tapped[1] - center[1]) < 1e-6) return;
      // Zoomed in far enough: "zoom in" no longer applies.
      if (rounded >= this.minZoomToChoose && this.#refused === 'zoom') this.#clearRefusal();
      this.#tellWhere(undefined, zoomChanged);
    }

    /** Speak (ambient) the zoom level, when asked or changed, and what is under the crosshair. */
    #tellWhere(wait, withZoom = true) {
      if (!this.#mapView || !this.#mapOk) return;
      const { center, zoom } = this.#mapView.state();
      const rounded = Math.round(zoom);
      const canLook = rounded >= this.minZoomToChoose;
      const zoomText = withZoom ? `${this.#t.zoomLevel(rounded)}${canLook ? '' : ` ${this.#zoomRefusal(rounded)}`}` : '';
      this.#whereabouts.moved({ center, zoomText, canLook }, wait);
    }

    // --- choosing --------------------------------------------------------------------------

    /**
     * A single click or tap on the map (never a drag or a two-finger gesture, see map-view.js).
     * Point mode: the crosshair moves there and it is chosen exactly as "Välj denna plats" does
     * (the same refusals, lookup, announcement and text). Line and area modes: a corner there.
     */
    async #pointAt(lonLat) {
      if (!this.#mapView || !this.#mapOk || this.disabled || this.matches(':disabled')) return;
      if (this.#drawing) {
        this.#drawing.add(lonLat);
        return;
      }
      this.#tapped = lonLat;
      // Another key, click or gesture on the way takes over; only a crosshair that arrived chooses.
      if (await this.#mapView.centreOn(lonLat)) this.#choose();
    }

    /** Choose the place under the crosshair (or at `lonLat`, for geolocation). */
    async #choose(lonLat = null, source = 'map') {
      if (!this.#mapView || this.disabled) return;
      const { center, zoom } = this.#mapView.state();
      const point = lonLat || center;
      if (!lonLat && refusal({ zoom, minZoom: this.minZoomToChoose }) === 'zoom') {
        this.#refuse(this.#zoomRefusal(), 'zoom');
        return;
      }
      this.#busy?.abort();
      const busy = new AbortController();
      this.#busy = busy;
      this.#announcer.announce(this.#t.looking, USER);
      let reverse = null;
      try {
        reverse = await this.#lookup.reverse(point[0], point[1], { signal: busy.signal });
      } catch (error) {
        if (error.name === 'AbortError') return;
        this.#failed('lookup', error);
      }
      if (busy.signal.aborted) return;
      this.#accept(valueFromReverse(point, reverse, { zoom, source, t: this.#t }), reverse !== null);
    }

    async #pickResult(feature) {
      const [lon, lat] = feature.geometry.coordinates;
      const zoom = Math.max(this.minZoomToChoose, 17);
      this.#mapView?.goTo([lon, lat], zoom);
      if (this.#drawing && this.#mapOk) {
        // A point is not a line or an area: the result shows where to draw, it is not the value.
        const place = feature.properties?.label || this.#refs.input.value;
        this.#refuse(this.#t.searchToDraw(this.#mode, place), 'search');
        return;
      }
      let reverse = null;
      try {
        reverse = await this.#lookup.reverse(lon, lat);
      } catch (error) {
        this.#failed('lookup', error);
      }
      this.#accept(valueFromSearch(feature, reverse, { zoom, t: this.#t }), true);
    }

    async #finishShape() {
      const shape = this.#drawing?.finish();
      if (!shape) return;
      const { zoom } = this.#mapView.state();
      this.#announcer.announce(this.#t.looking, USER);
      let reverse = null;
      try {
        reverse = await this.#lookup.reverse(shape.centre[0], shape.centre[1]);
      } catch (error) {
        this.#failed('lookup', error);
      }
      this.#accept(valueFromShape(shape, reverse, { zoom, mode: this.#mode, t: this.#t }), reverse !== null);
    }

    #accept(value, looked) {
      const reason = refusal({
        zoom: Infinity,
        minZoom: 0,
        municipalityCode: value.properties.municipality?.code ?? null,
        allowedArea: this.getAttribute('allowed-area'),
        looked,
      });
      if (reason === 'outside') {
        this.#refuse(outsideRefusal(value, this.getAttribute('allowed-area-name'), this.#t), 'outside');
        return;
      }
      if (!looked) this.#announcer.announce(this.#t.lookupFailed, USER);
      this.#setValue(value, { announce: looked });
    }

    /** "Zoom in": to which level, from which (`now`: the map's zoom, rounded). */
    #zoomRefusal(now = Math.round(this.#mapView?.state().zoom ?? 0)) {
      return this.#t.refuseZoom(Math.ceil(this.minZoomToChoose), now);
    }

    /** Say and show why the choice was refused and what to do; `kind` for clearing it later. */
    #refuse(text, kind = 'other') {
      this.#refused = kind;
      this.#announcer.announce(text, USER);
      showRefusal(this.#refs, text);
    }

    #clearRefusal() {
      this.#refused = null;
      hideRefusal(this.#refs);
    }

    #setValue(value, { announce }) {
      const changed = JSON.stringify(value) !== JSON.stringify(this.#value);
      this.#value = value;
      this.#internals.setFormValue(formValue(value), formValue(value));
      renderChosen(this.#refs, this.#value, this.#t);
      this.#marker?.show(value && value.geometry.type === 'Point' ? value.geometry.coordinates : null);
      this.#updateValidity();
      if (value) {
        hideError(this.#refs);
        this.#clearRefusal();
      }
      if (announce && value) {
        // The place only: the zoom level is news when it changes, not part of the choice.
        this.#announcer.announce(`${value.properties.label}.`, USER);
      }
      if (changed) emit(this, CHANGE, { value: this.value });
    }

    #locate() {
      this.#announcer.announce(this.#t.locating, USER);
      locate({
        t: this.#t,
        onPosition: (point) => {
          this.#mapView?.goTo(point, Math.max(this.minZoomToChoose, 17));
          this.#choose(point, 'geolocation');
        },
        onFailure: (text, error) => {
          // Beside the buttons, where focus is (not a field error: nothing is invalid).
          this.#refuse(text, 'locate');
          emit(this, ERROR, { kind: 'geolocation', message: error.message });
        },
      });
    }

    // --- validity, errors, state ------------------------------------------------------------

    #updateValidity() {
      if (!this.#refs.input) return;
      const fallbackActive = !this.#refs.fallback.hidden;
      // Said on the combobox itself ("required"), not only through the form's validation.
      if (this.required) this.#refs.input.setAttribute('aria-required', 'true');
      else this.#refs.input.removeAttribute('aria-required');
      if (this.required && !this.#value && !fallbackActive) {
        const message = this.#drawing ? this.#t.requiredShape(this.#mode) : this.#t.required;
        this.#internals.setValidity({ valueMissing: true }, message, this.#refs.input);
      } else {
        this.#internals.setValidity({});
      }
    }

    #failed(kind, error) {
      if (kind === 'search') this.#searchOk = false;
      // Neither map nor search can help: give the person the plain text field back.
      if (!this.#mapOk && !this.#searchOk) {
        setFallbackEnabled(this, this.#refs, true);
        // The fallback field (with its own `required`) now carries the answer.
        this.#updateValidity();
      }
      emit(this, ERROR, { kind, message: String(error && error.message ? error.message : error) });
    }

    #wireButtons() {
      const actions = {
        'zoom-in': () => this.#mapView?.zoomBy(1),
        'zoom-out': () => this.#mapView?.zoomBy(-1),
        'pan-north': () => this.#mapView?.panBy(0, -1),
        'pan-south': () => this.#mapView?.panBy(0, 1),
        'pan-west': () => this.#mapView?.panBy(-1, 0),
        'pan-east': () => this.#mapView?.panBy(1, 0),
        help: () => this.#help.toggle(),
        'help-close': () => this.#help.toggle(false),
        'hint-close': () => {
          this.#hint.dismiss();
          this.#refs.map.focus();
        },
        choose: () => this.#choose(),
        locate: () => this.#locate(),
        'add-vertex': () => this.#drawing?.add(),
        'remove-vertex': () => this.#drawing?.removeLast(),
        undo: () => this.#drawing?.undo(),
        finish: () => this.#finishShape(),
        clear: () => {
          this.#drawing?.clear();
          this.#setValue(null, { announce: false });
          this.#announcer.announce(this.#t.cleared, USER);
          this.#refs.input.focus();
        },
      };
      this.shadowRoot.addEventListener('click', (event) => {
        const button = event.target.closest?.('[data-action]');
        if (button && actions[button.dataset.action]) actions[button.dataset.action]();
      });
    }
  }
  return WebmapPicker;
}
