/**
 * The widget bundle (`/widget/webmap.js`): defines <webmap-picker>. One ES module, no inline
 * script, no eval, its CSS adopted into each element's shadow root (CSP-friendly).
 */
import olCss from 'ol/ol.css?inline';
import pickerCss from './picker.css?inline';
import { definePicker } from './element.js';
import { connectEmbed } from './embed.js';
import { createMapView } from './map-view.js';

function sheet(text) {
  const stylesheet = new CSSStyleSheet();
  stylesheet.replaceSync(text);
  return stylesheet;
}

if (!customElements.get('webmap-picker')) {
  customElements.define('webmap-picker', definePicker([sheet(olCss), sheet(pickerCss)], createMapView));
}

connectEmbed();
