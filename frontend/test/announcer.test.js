import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AMBIENT, USER, createAnnouncer } from '../src/picker/announcer.js';

describe('announcer', () => {
  let region;
  let announcer;

  beforeEach(() => {
    vi.useFakeTimers();
    region = { textContent: '' };
    announcer = createAnnouncer(region, {
      userDelay: 100,
      ambientDelay: 500,
      quietAfterUser: 2000,
      now: () => Date.now(),
    });
  });

  afterEach(() => {
    announcer.destroy();
    vi.useRealTimers();
  });

  it('speaks a user message after the short delay', () => {
    announcer.announce('Zooma in för att välja en plats.');
    expect(region.textContent).toBe('');
    vi.advanceTimersByTime(99);
    expect(region.textContent).toBe('');
    vi.advanceTimersByTime(1);
    expect(region.textContent).toBe('Zooma in för att välja en plats.');
  });

  it('debounces a burst of ambient messages to the last one', () => {
    announcer.announce('Zoomnivå 14.', AMBIENT);
    vi.advanceTimersByTime(300);
    announcer.announce('Zoomnivå 15.', AMBIENT);
    vi.advanceTimersByTime(300);
    announcer.announce('Zoomnivå 16.', AMBIENT);
    vi.advanceTimersByTime(499);
    expect(region.textContent).toBe('');
    vi.advanceTimersByTime(1);
    expect(region.textContent).toBe('Zoomnivå 16.');
  });

  it('never lets an ambient message replace a pending user message', () => {
    announcer.announce('Fastighet Stockholm Rosenbad 2, nära Drottninggatan 5.', USER);
    announcer.announce('Zoomnivå 17.', AMBIENT);
    vi.advanceTimersByTime(100);
    expect(region.textContent).toBe('Fastighet Stockholm Rosenbad 2, nära Drottninggatan 5.');
    vi.advanceTimersByTime(5000);
    expect(region.textContent).toBe('Fastighet Stockholm Rosenbad 2, nära Drottninggatan 5.');
  });

  it('lets a user message replace a pending ambient one at once', () => {
    announcer.announce('Zoomnivå 12.', AMBIENT);
    vi.advanceTimersByTime(200);
    announcer.announce('3 förslag.', USER);
    vi.advanceTimersByTime(100);
    expect(region.textContent).toBe('3 förslag.');
    vi.advanceTimersByTime(1000);
    expect(region.textContent).toBe('3 förslag.');
  });

  it('holds ambient messages back while a user message is fresh', () => {
    announcer.announce('Platsen ligger utanför kommunen.', USER);
    vi.advanceTimersByTime(100);
    announcer.announce('Zoomnivå 15.', AMBIENT);
    vi.advanceTimersByTime(1000);
    expect(region.textContent).toBe('Platsen ligger utanför kommunen.');
    vi.advanceTimersByTime(1000);
    expect(region.textContent).toBe('Zoomnivå 15.');
  });

  it('makes the same words audible again', () => {
    announcer.announce('Zooma in för att välja en plats.');
    vi.advanceTimersByTime(100);
    const first = region.textContent;
    announcer.announce('Zooma in för att välja en plats.');
    vi.advanceTimersByTime(100);
    expect(region.textContent).not.toBe(first);
    expect(region.textContent.replace('\u200b', '')).toBe(first);
  });

  it('clear() drops what is pending and empties the region', () => {
    announcer.announce('Något.');
    vi.advanceTimersByTime(100);
    announcer.announce('Mer.', AMBIENT);
    announcer.clear();
    vi.advanceTimersByTime(5000);
    expect(region.textContent).toBe('');
    expect(announcer.pending).toBeNull();
  });

  it('uses injected timing functions', () => {
    const calls = [];
    const own = createAnnouncer(region, {
      setTimeout: (fn, ms) => {
        calls.push(ms);
        fn();
        return 1;
      },
      clearTimeout: () => {},
      now: () => 0,
    });
    own.announce('Nu.');
    expect(calls).toEqual([100]);
    expect(region.textContent).toBe('Nu.');
  });
});
