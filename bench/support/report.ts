import { count, ms, ratio } from './format';

export type Unit = 'ops/s' | 'req/s' | 'creates/s' | 'events/s' | 'ms' | 'B/session';

/** One measured figure; with a baseline (measured in the same run) it prints the ratio too. */
export interface Figure {
  label: string;
  value: number;
  unit: Unit;
  baseline?: { label: string; value: number };
}

/** A target of the issue, checked against a ratio from this run. */
export interface TargetCheck {
  name: string;
  /** The measured ratio, as printed. */
  ratio: number;
  goal: string;
  pass: boolean;
  detail?: string;
}

function formatValue(value: number, unit: Unit): string {
  if (unit === 'ms') return ms(value);
  return `${count(value)} ${unit}`;
}

function figureRatio(figure: Figure): string {
  return figure.baseline ? ratio(figure.value / figure.baseline.value) : '—';
}

/** The results of one scenario: printed as they come, rendered as markdown at the end. */
export class Section {
  readonly figures: Figure[] = [];
  readonly targets: TargetCheck[] = [];
  readonly notes: string[] = [];

  constructor(
    readonly title: string,
    readonly setup: string,
  ) {
    console.log(`\n== ${title} ==\n${setup}`);
  }

  figure(figure: Figure): void {
    this.figures.push(figure);
    const base = figure.baseline
      ? `   vs ${figure.baseline.label} ${formatValue(figure.baseline.value, figure.unit)} = ${figureRatio(figure)}`
      : '';
    console.log(
      `  ${figure.label.padEnd(46)} ${formatValue(figure.value, figure.unit).padStart(16)}${base}`,
    );
  }

  target(check: TargetCheck): void {
    this.targets.push(check);
    const detail = check.detail ? ` (${check.detail})` : '';
    console.log(
      `  ${check.pass ? 'PASS' : 'MISS'}  ${check.name}: ${ratio(check.ratio)}, goal ${check.goal}${detail}`,
    );
  }

  note(text: string): void {
    this.notes.push(text);
    console.log(`  note: ${text}`);
  }

  markdown(): string {
    const lines = [`## ${this.title}`, '', this.setup, ''];
    if (this.figures.length > 0) {
      lines.push('| measurement | result | baseline (same run) | ratio |', '|---|---:|---:|---:|');
      for (const f of this.figures) {
        const base = f.baseline
          ? `${f.baseline.label}: ${formatValue(f.baseline.value, f.unit)}`
          : '—';
        lines.push(
          `| ${f.label} | ${formatValue(f.value, f.unit)} | ${base} | ${figureRatio(f)} |`,
        );
      }
      lines.push('');
    }
    for (const t of this.targets) {
      const detail = t.detail ? ` (${t.detail})` : '';
      lines.push(
        `- **${t.pass ? 'PASS' : 'MISS'}** ${t.name}: ${ratio(t.ratio)}, goal ${t.goal}${detail}`,
      );
    }
    if (this.targets.length > 0) lines.push('');
    for (const n of this.notes) lines.push(`- ${n}`);
    if (this.notes.length > 0) lines.push('');
    return lines.join('\n');
  }
}
