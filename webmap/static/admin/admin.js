/**
 * Progressive enhancement for the admin pages: a plain ES module, no build step, no imports.
 * Without it every page still works as HTML forms; with it
 *
 * - the upload form sends the file with XMLHttpRequest, whose upload progress events drive a
 *   real <progress> bar, and the page's role=status region says how far it has come (at 25 %
 *   steps, not at every event, so a screen reader is not flooded), then that the server is
 *   checking the file (the bar turns indeterminate: the server gives no progress for that);
 * - on success the browser goes to the validation report, as the plain form would;
 * - on a refusal the server's own form page (error summary, messages at each field) replaces
 *   <main>, and focus moves to the error summary, exactly as after a plain submit;
 * - messages shown after a redirect ("Version 2 is live") are put into their live region again
 *   after load, because screen readers do not speak what a live region holds at load.
 *
 * All words come from the page (data-text-* attributes, from the gettext catalogues in webmap/translations/).
 */

const STEP = 25;

/** Put the text of each [data-announce] live region in again, so that it is spoken. */
function reannounce(root = document) {
  for (const region of root.querySelectorAll('[data-announce]')) {
    const messages = [...region.children].map((child) => child.textContent);
    if (!messages.length) continue;
    region.replaceChildren();
    setTimeout(() => {
      region.replaceChildren(...messages.map((text) => paragraph(text)));
    }, 250);
  }
}

function paragraph(text) {
  const p = document.createElement('p');
  p.textContent = text;
  return p;
}

/** Say ``text`` in the page's status region (replacing what it said before). */
function announce(text) {
  const region = document.getElementById('status');
  if (region) region.replaceChildren(paragraph(text));
}

/** Swap <main> for the one in ``html`` (the server's form page with its errors). */
function showServerPage(doc) {
  const fresh = doc && doc.querySelector('main');
  const current = document.querySelector('main');
  if (!fresh || !current) return false;
  document.title = doc.title;
  current.replaceWith(document.adoptNode(fresh));
  const summary = fresh.querySelector('.error-summary');
  (summary || fresh).focus();
  enhanceUploads(fresh);
  return true;
}

function enhanceUpload(form) {
  if (form.dataset.enhanced) return;
  form.dataset.enhanced = 'true';
  const box = form.querySelector('.upload-progress');
  const bar = box && box.querySelector('progress');
  const button = form.querySelector('button[type="submit"]');
  if (!box || !bar) return;
  const text = (key, values = {}) =>
    (form.dataset[key] || '').replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (form.dataset.busy) return; // a second Enter while sending does not send twice
    form.dataset.busy = 'true';
    button?.setAttribute('aria-disabled', 'true');
    box.hidden = false;
    bar.max = 100;
    bar.value = 0;
    announce(text('textStart'));

    let spoken = 0;
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('Accept', 'text/html');
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    xhr.responseType = 'document';
    xhr.upload.addEventListener('progress', (progress) => {
      if (!progress.lengthComputable || !progress.total) return;
      const percent = Math.floor((progress.loaded / progress.total) * 100);
      bar.value = percent;
      const step = Math.floor(percent / STEP) * STEP;
      if (step > spoken && step < 100) {
        spoken = step;
        announce(text('textPercent', { percent: step }));
      }
    });
    xhr.upload.addEventListener('load', () => {
      bar.removeAttribute('value'); // indeterminate while the server checks and stores
      announce(text('textProcessing'));
    });
    const finish = () => {
      delete form.dataset.busy;
      button?.removeAttribute('aria-disabled');
    };
    const fail = () => {
      finish();
      box.hidden = true;
      announce(text('textFailed'));
    };
    xhr.addEventListener('load', () => {
      const target = xhr.getResponseHeader('Location');
      if (xhr.status === 201 && target) {
        bar.max = 100;
        bar.value = 100;
        announce(text('textDone'));
        window.location.assign(target);
        return;
      }
      finish();
      if (xhr.status >= 400 && showServerPage(xhr.response)) return;
      fail();
    });
    xhr.addEventListener('error', fail);
    xhr.addEventListener('abort', fail);
    xhr.send(new FormData(form));
  });
}

function enhanceUploads(root = document) {
  // XMLHttpRequest upload progress is everywhere today; the check keeps old browsers on the
  // plain form, which works just as well without a bar.
  if (!('upload' in XMLHttpRequest.prototype) || typeof FormData !== 'function') return;
  for (const form of root.querySelectorAll('form[data-upload]')) enhanceUpload(form);
}

enhanceUploads();
reannounce();
