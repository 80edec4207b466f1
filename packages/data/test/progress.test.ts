// Data's progress bars on a (pretended) terminal: an execution draws one bar per operator, with
// rows out of the rows expected when the plan says how many (a range, through a select, capped
// by a limit), and a counter after a filter, whose output is not known up front.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { init, shutdown } from '@ray-ts/core';
import { col, DataContext, range } from '@ray-ts/data';

const written: string[] = [];
const wasTTY = process.stderr.isTTY;
const wasColumns = process.stderr.columns;

beforeAll(async () => {
  await init({ numCpus: 2, namespace: 'data-progress-test' });
  process.stderr.isTTY = true;
  process.stderr.columns = 200; // the final drawing is cut to the terminal's width
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  process.stderr.isTTY = wasTTY;
  process.stderr.columns = wasColumns;
  await shutdown();
});

/** The bar lines drawn so far (cli-progress redraws them in place with escape sequences). */
function barLines(): string[] {
  return written
    .join('')
    .split(/\r|\n|\x1b\[[0-9;]*[A-Za-z]/)
    .map((l) => l.trimEnd())
    .filter((l) => / rows \| \d+ rows\/s/.test(l));
}

describe("Data's progress bars", () => {
  it('show rows out of the rows expected when the plan knows them, and a counter when it does not', async () => {
    expect(DataContext.getCurrent().progressBars).toBe(true);
    written.length = 0;
    await range(1000, { numBlocks: 4 }).selectColumns(['id']).materialize();
    const lines = barLines();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatch(
      /^range\(1000\)->selectColumns\(id\) +\|█+\| 1000\/1000 rows \| \d+ rows\/s \| ETA 0s$/,
    );

    written.length = 0;
    await range(1000, { numBlocks: 4 }).filter(col('id').lt(300)).materialize();
    expect(barLines().at(-1)).toMatch(/^range\(1000\)->filter.* \| 300 rows \| \d+ rows\/s$/);
  });
});
