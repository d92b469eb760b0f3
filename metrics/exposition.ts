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

/**
 * A family's text as prom-client prints it inside Registry.metrics(): HELP, TYPE, one line per
 * row, lines joined by '\n' with no trailing newline.
 */
export function formatGaugeFamily<R>(family: GaugeFamily<R>, rows: Iterable<R>): string {
  const parts: string[] = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} gauge`];
  const prefixes = family.labelNames.map((n, i) => `${i === 0 ? '{' : ','}${n}="`);
  for (const row of rows) {
    const values = family.labels(row);
    let line = family.name;
    for (let i = 0; i < prefixes.length; i++) line += `${prefixes[i]}${escapeLabelValue(values[i] ?? '')}"`;
    if (prefixes.length > 0) line += '}';
    parts.push(`${line} ${formatSampleValue(family.value(row))}`);
  }
  return parts.join('\n');
}
