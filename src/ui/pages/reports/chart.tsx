/**
 * A chart figure: a caption, an element the chart script (src/ui/assets/charts-client.js) draws into
 * from its `data-chart` JSON, and the same numbers as a table, so nothing is only in the picture. The
 * table's <details> is open in the HTML (JavaScript off: the table is the content); the script closes
 * it once the chart is drawn. Data travels in an attribute, not a script block: the CSP forbids inline
 * scripts, and attribute escaping is the JSX's own.
 */
import type { Child } from 'hono/jsx';

export type Tone = 'blue' | 'green' | 'red' | 'black' | 'orange' | 'purple';

export interface ChartSeries {
  label: string;
  /** One value per x; null where there is nothing to show (a rate with no messages). */
  values: (number | null)[];
  tone: Tone;
}

export interface ChartSpec {
  /** Unix seconds (UTC midnight of each day, or of each month's first day). */
  x: number[];
  series: ChartSeries[];
  /** Values are percentages 0..100: the axis is fixed to that range. */
  percent?: boolean;
  monthly?: boolean;
}

/** `2024-06-13` or `2024-06` → Unix seconds at its UTC start. */
export function unixSeconds(period: string): number {
  const text = period.length === 7 ? `${period}-01` : period;
  return Math.floor(Date.parse(`${text}T00:00:00Z`) / 1000);
}

export function ChartFigure(props: { id: string; caption: string; description: string; spec: ChartSpec; children?: Child }) {
  return (
    <figure class="chart-figure" aria-labelledby={`${props.id}-caption`}>
      <figcaption id={`${props.id}-caption`}>{props.caption}</figcaption>
      <p class="hint">{props.description}</p>
      {/* The canvas repeats the table below, which is what assistive technology should read. */}
      <div class="chart" id={props.id} data-chart={JSON.stringify(props.spec)} aria-hidden="true" />
      <details data-chart-table open>
        <summary>Table of the chart's data</summary>
        {props.children}
      </details>
    </figure>
  );
}
