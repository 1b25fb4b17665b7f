/**
 * The picker's strings, one module per language. Swedish is the default; `lang="en"` (or any
 * `en-*`) switches to English. Adding a language is adding a module with the same keys.
 */
import en from './en.js';
import sv from './sv.js';

export const LANGUAGES = { sv, en };

/**
 * Strings for a BCP 47 language tag; unknown languages get Swedish.
 * @param {string | null | undefined} lang
 */
export function strings(lang) {
  const primary = String(lang || '').toLowerCase().split('-')[0];
  return LANGUAGES[primary] || sv;
}
