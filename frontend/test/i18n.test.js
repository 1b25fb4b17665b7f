/**
 * The bundles' own strings (the picker widget and the viewer): every key in both languages,
 * of the same kind, none empty. Server-rendered text lives in gettext catalogues instead
 * (tests/test_translations.py checks those).
 */
import { describe, expect, it } from 'vitest';
import pickerEn from '../src/picker/i18n/en.js';
import pickerSv from '../src/picker/i18n/sv.js';
import { TEXT_EN as viewerEn, TEXT_SV as viewerSv } from '../src/viewer/i18n.js';

// Sample arguments for the message functions: numbers, words and the modes they switch on.
// Each function is called with every list it accepts (the others throw and are skipped).
const SAMPLES = [
  [1, 2, 3],
  [2, 5, 'north'],
  [18.07123, 59.33812],
  ['Kungsgatan 1', 'Stockholm'],
  ['polygon', 1],
  ['line', 2],
  ['polygon', 'tooFew'],
  ['line', 'crosses'],
  ['polygon', 'noArea'],
  ['polygon', 1234.5],
  ['line', 12.5],
];

function calls(fn) {
  const results = [];
  SAMPLES.forEach((args, i) => {
    try {
      results.push([i, fn(...args.slice(0, fn.length))]);
    } catch {
      // not this function's argument types
    }
  });
  return results;
}

function kind(value) {
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Every leaf as [path, value], functions called with each sample. */
function leaves(value, path = []) {
  if (typeof value === 'string') return [[path.join('.'), value]];
  if (typeof value === 'function') {
    const results = calls(value);
    expect(results.length, path.join('.')).toBeGreaterThan(0);
    return results.map(([i, text]) => [`${path.join('.')}(${i})`, text]);
  }
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => leaves(inner, [...path, key]));
  }
  return [[path.join('.'), value]];
}

/** The key structure: nested keys with each value's kind (and arity of functions). */
function shape(value) {
  if (Array.isArray(value)) return value.map(shape);
  if (typeof value === 'function') return `function/${value.length}`;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shape(inner)]));
  }
  return kind(value);
}

describe.each([
  ['picker', pickerSv, pickerEn],
  ['viewer', viewerSv, viewerEn],
])('%s strings', (_name, sv, en) => {
  it('have the same keys, of the same kind, in Swedish and English', () => {
    const { lang: svLang, ...svRest } = sv;
    const { lang: enLang, ...enRest } = en;
    expect([svLang, enLang]).toEqual(svLang === undefined ? [undefined, undefined] : ['sv', 'en']);
    expect(shape(enRest)).toEqual(shape(svRest));
  });

  it.each([
    ['sv', sv],
    ['en', en],
  ])('has no empty string in %s', (_lang, strings) => {
    for (const [path, text] of leaves(strings)) {
      if (text === undefined && path.startsWith('shapeProblem')) continue; // not a problem name
      expect(typeof text, path).toBe('string');
      expect(text.trim(), path).not.toBe('');
    }
  });

  it('differs between the languages (the English is not a copy)', () => {
    const svTexts = new Set(leaves(sv).map(([, text]) => text));
    const same = leaves(en).filter(([, text]) => svTexts.has(text));
    expect(same.length).toBeLessThan(leaves(en).length / 4);
  });
});
