/**
 * Progressive enhancement for the admin pages (a plain ES module, no build step).
 * Without it every page still works as HTML forms.
 *
 * Messages shown after a redirect ("Version 2 is live") sit in a role=status region from the
 * start, and screen readers do not speak what a live region holds when the page loads; putting
 * the text in again after load makes them announce it.
 */
function reannounce() {
  for (const region of document.querySelectorAll('[data-announce]')) {
    const text = region.innerHTML;
    if (!text.trim()) continue;
    region.innerHTML = '';
    setTimeout(() => { region.innerHTML = text; }, 250);
  }
}

reannounce();
