// The Prometheus text format (version 0.0.4) written straight from rows, for the families with
// one series per server repo: going through prom-client's Gauge.set() hashes and stores every
// label set before formatting it, which at 50,000 server repos was most of a scrape. Escaping
// and number formatting follow prom-client 15's registry.js and util.js exactly, so a family
// written here is byte for byte what prom-client would print (test/metrics/exposition.test.ts).

const NEEDS_ESCAPE = /[\\\n"]/;

/** Label value escaping of the text format: backslash, newline and double quote. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** HELP text escaping: backslash and newline (quotes stay). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** prom-client's getValueAsString: Nan (sic), +Inf, -Inf, else the JavaScript number. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** One gauge family whose label names are fixed; values are taken from each row in order. */
export interface GaugeFamily<R> {
  name: string;
  help: string;
  labelNames: readonly string[];
  /** Label values of a row, in labelNames order (unescaped). */
  labels(row: R): readonly string[];
  value(row: R): number;
}

function familyHeader(family: GaugeFamily<unknown>): string {
  return `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} gauge`;
}

function sampleLine<R>(family: GaugeFamily<R>, prefixes: readonly string[], row: R): string {
  const values = family.labels(row);
  let line = family.name;
  for (let i = 0; i < prefixes.length; i++) line += `${prefixes[i]}${escapeLabelValue(values[i] ?? '')}"`;
  if (prefixes.length > 0) line += '}';
  return `${line} ${formatSampleValue(family.value(row))}`;
}

const labelPrefixes = (family: GaugeFamily<unknown>) =>
  family.labelNames.map((n, i) => `${i === 0 ? '{' : ','}${n}="`);

/**
 * A family's text as prom-client prints it inside Registry.metrics(): HELP, TYPE, one line per
 * row, lines joined by '\n' with no trailing newline.
 */
export function formatGaugeFamily<R>(family: GaugeFamily<R>, rows: Iterable<R>): string {
  const prefixes = labelPrefixes(family as GaugeFamily<unknown>);
  const parts = [familyHeader(family as GaugeFamily<unknown>)];
  for (const row of rows) parts.push(sampleLine(family, prefixes, row));
  return parts.join('\n');
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * formatGaugeFamily's text followed by '\n', as UTF-8 buffers of `chunkRows` lines each, with a
 * turn of the event loop between chunks: 50,000 rows formatted in one go block the exporter
 * (and the scrapes it serves from its ready buffer) for hundreds of milliseconds.
 */
export async function formatGaugeFamilyChunks<R>(
  family: GaugeFamily<R>,
  rows: readonly R[],
  chunkRows = 2000,
): Promise<Buffer[]> {
  const prefixes = labelPrefixes(family as GaugeFamily<unknown>);
  const chunks = [Buffer.from(`${familyHeader(family as GaugeFamily<unknown>)}\n`)];
  for (let start = 0; start < rows.length; start += chunkRows) {
    if (start > 0) await yieldToEventLoop();
    let text = '';
    for (const row of rows.slice(start, start + chunkRows)) text += `${sampleLine(family, prefixes, row)}\n`;
    chunks.push(Buffer.from(text));
  }
  return chunks;
}
