import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import sv from '../src/picker/i18n/sv.js';
import { createWhereabouts } from '../src/picker/whereabouts.js';

describe('whereabouts', () => {
  let spoken;
  let calls;
  let answer;
  let where;

  beforeEach(() => {
    vi.useFakeTimers();
    spoken = [];
    calls = [];
    answer = {
      address: { label: 'Linnégatan 2, Stockholm' },
      property: { designation: 'Stockholm Fiktiva Rönnen 2' },
    };
    where = createWhereabouts({
      t: sv,
      delay: 600,
      announce: (text, priority) => spoken.push([text, priority]),
      reverse: (lon, lat, { signal }) => {
        calls.push([lon, lat]);
        return new Promise((resolve, reject) => {
          signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
          setTimeout(() => resolve(answer), 50);
        });
      },
    });
  });

  afterEach(() => {
    where.destroy();
    vi.useRealTimers();
  });

  it('looks up once per pause and speaks zoom and place as ambient news', async () => {
    where.moved({ center: [18.07, 59.33], zoomText: '', canLook: true });
    vi.advanceTimersByTime(300);
    where.moved({ center: [18.08, 59.33], zoomText: 'Zoomnivå 17.', canLook: true });
    await vi.advanceTimersByTimeAsync(700);
    expect(calls).toEqual([[18.08, 59.33]]);
    expect(spoken).toEqual([
      ['Zoomnivå 17. Vid hårkorset: Fastighet Stockholm Fiktiva Rönnen 2, nära Linnégatan 2, Stockholm.', 'ambient'],
    ]);
  });

  it('drops a lookup overtaken by a new move', async () => {
    where.moved({ center: [18.07, 59.33], zoomText: '', canLook: true });
    await vi.advanceTimersByTimeAsync(620); // lookup in flight
    where.moved({ center: [18.09, 59.34], zoomText: '', canLook: true });
    await vi.advanceTimersByTimeAsync(700);
    expect(calls).toHaveLength(2);
    expect(spoken).toHaveLength(1);
  });

  it('only says the zoom when zoomed out too far to look', async () => {
    where.moved({ center: [18.07, 59.33], zoomText: 'Zoomnivå 12. Zooma in för att välja en plats.', canLook: false });
    await vi.advanceTimersByTimeAsync(700);
    expect(calls).toEqual([]);
    expect(spoken).toEqual([['Zoomnivå 12. Zooma in för att välja en plats.', 'ambient']]);
  });

  it('names the municipality where no address is near, and says when there is none', async () => {
    answer = { address: null, property: null, municipality: { code: '0136', name: 'Haninge' } };
    where.moved({ center: [18.2, 59.2], zoomText: '', canLook: true });
    await vi.advanceTimersByTimeAsync(700);
    answer = { address: null, property: null, municipality: null };
    where.moved({ center: [19.5, 59.2], zoomText: '', canLook: true });
    await vi.advanceTimersByTimeAsync(700);
    expect(spoken).toEqual([
      ['Vid hårkorset: ingen adress i närheten, i Haninge kommun.', 'ambient'],
      ['Vid hårkorset: ingen adress och ingen svensk kommun här.', 'ambient'],
    ]);
  });

  it('says it at once when asked (focus on the map)', async () => {
    answer = { ...answer, municipality: { code: '0180', name: 'Stockholm' } };
    where.moved({ center: [18.07, 59.33], zoomText: 'Zoomnivå 16.', canLook: true }, 0);
    await vi.advanceTimersByTimeAsync(60);
    expect(spoken).toEqual([
      [
        'Zoomnivå 16. Vid hårkorset: Fastighet Stockholm Fiktiva Rönnen 2, nära Linnégatan 2, Stockholm, i Stockholms kommun.',
        'ambient',
      ],
    ]);
  });

  it('keeps quiet about the place when the lookup fails', async () => {
    answer = Promise.reject(new Error('offline'));
    answer.catch(() => {});
    where.moved({ center: [18.07, 59.33], zoomText: '', canLook: true });
    await vi.advanceTimersByTimeAsync(700);
    expect(spoken).toEqual([]);
  });
});
