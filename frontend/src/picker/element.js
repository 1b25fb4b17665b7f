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
 * shown and enabled again, and the form still completes. Its attributes: see attributes.js.
 */
import { USER, createAnnouncer } from './announcer.js';
import { createLookup } from './api.js';
import { minZoomToChoose, modeOf } from './attributes.js';
import { CHANGE, ERROR, READY, emit } from './events.js';
import { strings } from './i18n/index.js';
import { createDrawing } from './drawing.js';
import { createFormWriter, fieldsRefusal } from './eplatform-fields.js';
import { formFieldBase, internalsOf } from './form-field.js';
import { locate } from './geolocate.js';
import { createHint } from './gesture-hint.js';
import { createHelp } from './help.js';
import { showMapFailed } from './map-failure.js';
import * as municipal from './municipality.js';
import { openMap } from './map-start.js';
import { createNarration } from './narration.js';
import { createSearch } from './search.js';
import { buildPicker } from './template.js';
import { createToolbar, onAction } from './toolbar.js';
import { updateValidity } from './validity.js';
import {
  createRefusal,
  hideError,
  renderChosen,
  setControlsDisabled,
  setFallbackEnabled,
  showError,
} from './view-state.js';
import { createWhereabouts } from './whereabouts.js';
import {
  outsideRefusal,
  parseFormValue,
  refusal,
  valueFromReverse,
  valueFromSearch,
  valueFromShape,
} from './value.js';

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
    #hint = null;
    #help = null;
    #rendered = false;
    #searchOk = true;
    #mapOk = true;
    #busy = null;
    #mode = 'point';
    #drawing = null;
    #narration = null;
    #refusal = null;
    #writer;
    /** municipality="…": its description (null until loaded, or without one) and the load. */
    #municipality = null;
    #municipalityLoad = Promise.resolve(null);

    constructor() {
      super();
      this.#internals = internalsOf(this);
      // JSON under `name`, or Open ePlatform's fields (`fields="open-eplatform"`).
      this.#writer = createFormWriter(this, this.#internals, () => this.#mapView?.map);
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
      return minZoomToChoose(this);
    }

    connectedCallback() {
      if (this.#rendered) return;
      this.#rendered = true;
      this.#t = strings(this.getAttribute('lang') || this.closest('[lang]')?.getAttribute('lang'));
      this.#mode = modeOf(this);
      const { root, refs } = buildPicker(this.#t, this.getAttribute('label'), this.#mode);
      this.#refs = refs;
      const placeholder = this.getAttribute('search-placeholder');
      if (placeholder !== null) refs.input.placeholder = placeholder;
      this.shadowRoot.append(root);
      this.#announcer = createAnnouncer(refs.live);
      this.#refusal = createRefusal(refs, (text) => this.#announcer.announce(text, USER));
      const announce = (text, priority) => this.#announcer.announce(text, priority);
      this.#hint = createHint(refs.gestureHint, { t: this.#t, announce });
      this.#help = createHelp(refs);
      this.#lookup = createLookup(this.getAttribute('server'));
      this.#municipalityLoad = municipal.loadMunicipality(municipal.municipalityCode(this), this.#lookup.base).then(
        (found) => (this.#municipality = found),
        (error) => {
          // The map then opens on its usual view; refusals still go by the code.
          emit(this, ERROR, { kind: 'municipality', message: error.message });
          return null;
        },
      );
      this.#narration = createNarration({
        whereabouts: createWhereabouts({
          reverse: (lon, lat, options) => this.#lookup.reverse(lon, lat, options),
          t: this.#t,
          announce,
        }),
        t: this.#t,
        minZoom: () => this.minZoomToChoose,
        zoomRefusal: (zoom) => this.#zoomRefusal(zoom),
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
          refuse: (text, kind) => this.#refusal.show(text, kind),
          added: () => this.#refusal.clear(),
        });
      }
      this.#search = createSearch({
        input: refs.input,
        listbox: refs.listbox,
        t: this.#t,
        search: (q, signal) =>
          this.#lookup.search(q, { signal, near: this.#mapView?.state().center, municipality: this.#municipality?.code }),
        mark: (feature) => municipal.outsideMark(feature.properties || {}, this.#municipality, this.#t),
        summary: (results) => municipal.outsideSummary(results, this.#municipality, this.#t),
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
      this.#refusal?.clear();
    }

    formDisabledCallback(disabled) {
      setControlsDisabled(this.shadowRoot, this.#refs, disabled, this.#mapOk);
    }

    formStateRestoreCallback(state) {
      this.#setValue(parseFormValue(state), { announce: false });
    }

    // --- the map -------------------------------------------------------------------------

    async #startMap() {
      try {
        const municipality = await this.#municipalityLoad;
        const size = [this.#refs.map.clientWidth || 320, this.#refs.map.clientHeight || 320];
        const { view, marker, ready } = openMap(createMapView, this, {
          start: municipal.startView(this, municipality, size),
          layers: municipal.layerNames(this, municipality),
          container: this.#refs.map,
          base: this.#lookup.base,
          drawing: this.#drawing,
          help: this.#help,
          hint: this.#hint,
          onOverlayError: (url, error) => emit(this, ERROR, { kind: 'map', message: `${url}: ${error.message}` }),
          onMoveEnd: (state) => this.#onMoveEnd(state),
          onChoose: () => this.#choose(),
          onPoint: (lonLat) => this.#pointAt(lonLat),
        });
        this.#mapView = view;
        this.#marker = marker;
        await ready;
        emit(this, READY, { map: true });
      } catch (error) {
        this.#mapOk = false;
        this.#announcer.announce(showMapFailed(this, this.#refs, this.#t), USER);
        this.#updateValidity();
        this.#failed('map', error);
        emit(this, READY, { map: false });
      }
    }

    #onMoveEnd(state) {
      // Zoomed in far enough: "zoom in" no longer applies.
      if (this.#narration.stopped(state) && this.#refusal.kind === 'zoom') this.#refusal.clear();
    }

    /** Say where the crosshair is now (keyboard focus on the map: at once). */
    #tellWhere(wait) {
      if (this.#mapView && this.#mapOk) this.#narration.tell(this.#mapView.state(), wait);
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
      this.#narration.tapped(lonLat);
      // Another key, click or gesture on the way takes over; only a crosshair that arrived chooses.
      if (await this.#mapView.centreOn(lonLat)) this.#choose();
    }

    /** Choose the place under the crosshair (or at `lonLat`, for geolocation). */
    async #choose(lonLat = null, source = 'map') {
      if (!this.#mapView || this.disabled) return;
      const { center, zoom } = this.#mapView.state();
      const point = lonLat || center;
      if (!lonLat && refusal({ zoom, minZoom: this.minZoomToChoose }) === 'zoom') {
        this.#refusal.show(this.#zoomRefusal(), 'zoom');
        return;
      }
      this.#busy?.abort();
      const busy = new AbortController();
      this.#busy = busy;
      this.#announcer.announce(this.#t.looking, USER);
      const reverse = await this.#reverse(point, busy.signal);
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
        this.#refusal.show(this.#t.searchToDraw(this.#mode, place), 'search');
        return;
      }
      const reverse = await this.#reverse([lon, lat]);
      this.#accept(valueFromSearch(feature, reverse, { zoom, t: this.#t }), true);
    }

    async #finishShape() {
      const shape = this.#drawing?.finish();
      if (!shape) return;
      const { zoom } = this.#mapView.state();
      this.#announcer.announce(this.#t.looking, USER);
      const reverse = await this.#reverse(shape.centre);
      this.#accept(valueFromShape(shape, reverse, { zoom, mode: this.#mode, t: this.#t }), reverse !== null);
    }

    /** The address, property and municipality at `point`; null when the lookup failed (said
     * as an error event) or was aborted by a newer choice. */
    async #reverse(point, signal = undefined) {
      try {
        return await this.#lookup.reverse(point[0], point[1], { signal });
      } catch (error) {
        if (error.name !== 'AbortError') this.#failed('lookup', error);
        return null;
      }
    }

    #accept(value, looked) {
      // `allowed-area`, else the picker's municipality.
      const area = municipal.allowedArea(this, municipal.municipalityCode(this), this.#municipality);
      const reason = refusal({
        zoom: Infinity,
        minZoom: 0,
        municipalityCode: value.properties.municipality?.code ?? null,
        allowedArea: area.code,
        looked,
      });
      if (reason === 'outside') {
        this.#refusal.show(outsideRefusal(value, area.name, this.#t), 'outside');
        return;
      }
      const missing = fieldsRefusal(this, value, looked, this.#t);
      if (missing) {
        this.#refusal.show(missing, 'property');
        return;
      }
      if (!looked) this.#announcer.announce(this.#t.lookupFailed, USER);
      this.#setValue(value, { announce: looked });
    }

    /** "Zoom in": to which level, from which (`now`: the map's zoom, rounded). */
    #zoomRefusal(now = Math.round(this.#mapView?.state().zoom ?? 0)) {
      return this.#t.refuseZoom(Math.ceil(this.minZoomToChoose), now);
    }

    #setValue(value, { announce }) {
      const changed = JSON.stringify(value) !== JSON.stringify(this.#value);
      this.#value = value;
      this.#writer.write(value);
      renderChosen(this.#refs, this.#value, this.#t);
      this.#marker?.show(value && value.geometry.type === 'Point' ? value.geometry.coordinates : null);
      this.#updateValidity();
      if (value) {
        hideError(this.#refs);
        this.#refusal?.clear();
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
          this.#refusal.show(text, 'locate');
          emit(this, ERROR, { kind: 'geolocation', message: error.message });
        },
      });
    }

    // --- validity, errors, state ------------------------------------------------------------

    #updateValidity() {
      if (!this.#refs.input) return; // not rendered yet (an attribute set before connecting)
      updateValidity(this.#internals, this.#refs, {
        required: this.required,
        hasValue: Boolean(this.#value),
        message: this.#drawing ? this.#t.requiredShape(this.#mode) : this.#t.required,
      });
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
      onAction(this.shadowRoot, actions);
    }
  }
  return WebmapPicker;
}
