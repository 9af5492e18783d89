// What the observability tests need to know about PromQL and Grafana dashboards, without a
// PromQL parser (Prometheus 2.42 has no parse endpoint; Prometheus itself parses every expression
// in the tests):
// - the vector selectors of an expression (`metric{matchers}`), to check each returns series;
// - Grafana's variables substituted the way Grafana does before it sends a query;
// - every query of a dashboard: panel targets and template-variable queries.

/** Keywords and literals that look like identifiers but are not metric names. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2']);
/** Keywords followed by a parenthesised label list, not an expression. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

function skipString(expr: string, i: number): number {
  const quote = expr[i];
  for (let j = i + 1; j < expr.length; j++) {
    if (expr[j] === '\\' && quote !== '`') j++;
    else if (expr[j] === quote) return j + 1;
  }
  throw new Error(`unterminated string in ${expr}`);
}

/** Index just past the bracket closing the one at `i` (`{`, `(` or `[`), strings skipped. */
function skipBracketed(expr: string, i: number): number {
  const open = expr[i];
  const close = open === '{' ? '}' : open === '(' ? ')' : ']';
  let depth = 0;
  for (let j = i; j < expr.length; ) {
    const c = expr[j];
    if (c === '"' || c === "'" || c === '`') {
      j = skipString(expr, j);
      continue;
    }
    if (c === open) depth++;
    else if (c === close && --depth === 0) return j + 1;
    j++;
  }
  throw new Error(`unbalanced ${open} in ${expr}`);
}

/**
 * The vector selectors in a PromQL expression, as written: `name`, `name{…}` or `{…}`. Range
 * brackets (`[5m]`), subquery steps, function names, keywords, label lists of `by (…)` and the
 * like, numbers and strings are not selectors.
 */
export function vectorSelectors(expr: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(expr, i);
    } else if (c === '[') {
      i = skipBracketed(expr, i);
    } else if (c === '{') {
      const end = skipBracketed(expr, i);
      out.push(expr.slice(i, end));
      i = end;
    } else if (/[0-9.]/.test(c)) {
      // A number or a duration (1e9, 0.99, 5m, 0x1f).
      i++;
      while (i < expr.length && /[0-9a-zA-Z_.]/.test(expr[i])) i++;
    } else if (/[a-zA-Z_:]/.test(c)) {
      let end = i + 1;
      while (end < expr.length && /[a-zA-Z0-9_:]/.test(expr[end])) end++;
      const ident = expr.slice(i, end);
      let next = end;
      while (next < expr.length && /\s/.test(expr[next])) next++;
      if (/^(by|without)\b/.test(expr.slice(next))) {
        // An aggregation with its grouping first: `sum by (a) (…)`.
        i = end;
      } else if (expr[next] === '(') {
        // A function call (its arguments are scanned next) or a label list (skipped).
        i = LABEL_LIST_KEYWORDS.has(ident) ? skipBracketed(expr, next) : next + 1;
      } else if (KEYWORDS.has(ident.toLowerCase())) {
        i = end;
      } else if (expr[next] === '{') {
        const close = skipBracketed(expr, next);
        out.push(ident + expr.slice(next, close));
        i = close;
      } else {
        out.push(ident);
        i = end;
      }
    } else {
      i++;
    }
  }
  return out;
}

/** The metric name of a selector (`name{…}` → `name`; `{__name__="x"}` → `x`). */
export function selectorMetric(selector: string): string {
  const named = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(selector);
  if (named !== null) return named[1];
  const inner = /__name__\s*=\s*"([^"]+)"/.exec(selector);
  if (inner === null) throw new Error(`selector without a metric name: ${selector}`);
  return inner[1];
}

/** Escapes a value for use inside a PromQL regex matcher (Grafana does this for multi-value variables). */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|]/g, (c) => `\\\\${c}`);
}

export interface GrafanaVariables {
  /** Values of the dashboard's template variables (`$name` and `${name}`), already escaped for their context. */
  readonly template: Readonly<Record<string, string>>;
  /** Grafana's built-ins: `$__rate_interval`, `$__interval`, `$__range`. */
  readonly rateInterval: string;
  readonly interval: string;
  readonly range: string;
}

/** An expression as Grafana sends it to Prometheus: every variable replaced. Unknown variables throw. */
export function substituteGrafanaVariables(expr: string, vars: GrafanaVariables): string {
  const builtins: Record<string, string> = {
    __rate_interval: vars.rateInterval,
    __interval: vars.interval,
    __range: vars.range,
  };
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    const value = builtins[name] ?? vars.template[name];
    if (value === undefined) throw new Error(`unknown Grafana variable ${whole} in ${expr}`);
    return value;
  });
}

export interface DashboardQuery {
  /** Where it is: panel title and refId, or `variable <name>`. */
  readonly where: string;
  readonly expr: string;
  /** A `label_values(selector, label)` variable query (Grafana's, not PromQL). */
  readonly labelValues?: { readonly selector: string; readonly label: string };
}

interface DashboardPanel {
  readonly type: string;
  readonly title: string;
  readonly panels?: DashboardPanel[];
  readonly targets?: Array<{ readonly refId: string; readonly expr: string }>;
}

export interface Dashboard {
  readonly panels: DashboardPanel[];
  readonly templating: { readonly list: Array<{ readonly name: string; readonly type: string; readonly query?: unknown }> };
}

/** Every panel (rows' collapsed children included), rows excluded. */
export function dashboardPanels(dashboard: Dashboard): DashboardPanel[] {
  const out: DashboardPanel[] = [];
  for (const p of dashboard.panels) {
    if (p.type === 'row') out.push(...(p.panels ?? []));
    else out.push(p);
  }
  return out;
}

/** Every query of the dashboard: panel targets, then query variables. */
export function dashboardQueries(dashboard: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const panel of dashboardPanels(dashboard)) {
    for (const t of panel.targets ?? []) out.push({ where: `panel "${panel.title}" ${t.refId}`, expr: t.expr });
  }
  for (const v of dashboard.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
    const m = /^label_values\((.*),\s*(\w+)\)$/.exec(q);
    if (m !== null) out.push({ where: `variable ${v.name}`, expr: m[1], labelValues: { selector: m[1], label: m[2] } });
    else out.push({ where: `variable ${v.name}`, expr: q });
  }
  return out;
}
