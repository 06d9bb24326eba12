// Export formats (metrics as CSV and JSON, charts as PNG) and the reading of a safetensors
// checkpoint's header before it is handed to the engine, so a bad file is refused up front.
import { toEngineConfig, fromEngineConfig, type FlatConfig } from './config/fields';
import type { RunMetrics } from './metrics';

export interface ExportRun { name: string; label: string; config: FlatConfig; metrics: RunMetrics }

/** float32 values printed with the digits they actually have. */
const f32 = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(7))) : num(x));
const num = (x: number) => (Number.isFinite(x) ? String(x) : Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf');
const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/**
 * One row per run and step. Evaluation columns are filled on the steps where an evaluation ran.
 * Block columns (b0..b{depth-1} for each of grad_norm, act_rms, update_ratio) hold the mean over
 * the `block_span` steps ending at that row, and are filled on those rows only (every row until
 * a run is longer than the 4096 columns the page keeps).
 */
export function metricsCsv(runs: readonly ExportRun[]): string {
  const maxDepth = Math.max(0, ...runs.map((r) => r.metrics.depth));
  const blockCols: string[] = [];
  for (const name of ['grad_norm', 'act_rms', 'update_ratio']) for (let b = 0; b < maxDepth; b++) blockCols.push(`${name}_b${b}`);
  const header = ['run', 'label', 'step', 'loss', 'lr', 'grad_norm', 'ms', 'eval_train_loss', 'eval_val_loss', 'eval_train_accuracy', 'eval_accuracy', 'block_span', ...blockCols];
  const lines = [header.join(',')];
  for (const r of runs) {
    const m = r.metrics;
    const evalAt = new Map(m.evals.map((e) => [e.step, e]));
    const blockAt = new Map<number, number>();
    m.gradBlocks.endStep.forEach((s, c) => blockAt.set(s, c));
    for (let i = 0; i < m.step.length; i++) {
      const step = m.step.data[i];
      const e = evalAt.get(step);
      const c = blockAt.get(step);
      const row = [csvCell(r.name), csvCell(r.label), String(step), num(m.loss.data[i]), num(m.lr.data[i]), num(m.gradNorm.data[i]), num(m.ms.data[i])];
      row.push(e ? num(e.trainLoss) : '', e ? num(e.valLoss) : '', e && e.trainAccuracy >= 0 ? num(e.trainAccuracy) : '', e && e.accuracy >= 0 ? num(e.accuracy) : '');
      row.push(c !== undefined ? String(m.gradBlocks.span[c]) : '');
      for (const bs of [m.gradBlocks, m.rmsBlocks, m.updBlocks]) {
        const col = c !== undefined ? bs.column(c) : null;
        for (let b = 0; b < maxDepth; b++) row.push(col && b < m.depth ? f32(col[b]) : '');
      }
      lines.push(row.join(','));
    }
    // Evaluations not on a recorded step (e.g. after loading a checkpoint) still get a row.
    for (const e of m.evals) {
      if (m.step.length && m.step.view().includes(e.step)) continue;
      lines.push([csvCell(r.name), csvCell(r.label), String(e.step), '', '', '', '', num(e.trainLoss), num(e.valLoss),
        e.trainAccuracy >= 0 ? num(e.trainAccuracy) : '', e.accuracy >= 0 ? num(e.accuracy) : '', '', ...blockCols.map(() => '')].join(','));
    }
  }
  return lines.join('\n') + '\n';
}

const jsonNum = (x: number) => (Number.isFinite(x) ? x : null);  // JSON has no NaN/Inf: null marks them

/** Everything the page knows about the runs, as one JSON document (format "resnorm-metrics-1"). */
export function metricsJson(runs: readonly ExportRun[], when = new Date()): string {
  const doc = {
    format: 'resnorm-metrics-1',
    exported: when.toISOString(),
    runs: runs.map((r) => {
      const m = r.metrics;
      const cols = (bs: typeof m.gradBlocks) => Array.from({ length: bs.columns }, (_, c) => Array.from(bs.column(c), (v) => jsonNum(Number(v.toPrecision(7)))));
      return {
        run: r.name,
        label: r.label,
        config: toEngineConfig(r.config),
        steps: {
          step: Array.from(m.step.view()),
          loss: Array.from(m.loss.view(), jsonNum),
          lr: Array.from(m.lr.view(), jsonNum),
          grad_norm: Array.from(m.gradNorm.view(), jsonNum),
          ms: Array.from(m.ms.view(), jsonNum),
        },
        evals: m.evals.map((e) => ({
          step: e.step, train_loss: jsonNum(e.trainLoss), val_loss: jsonNum(e.valLoss),
          train_accuracy: e.trainAccuracy >= 0 ? e.trainAccuracy : null, accuracy: e.accuracy >= 0 ? e.accuracy : null,
        })),
        blocks: {
          end_step: [...m.gradBlocks.endStep],
          span: [...m.gradBlocks.span],
          grad_norm: cols(m.gradBlocks),
          act_rms: cols(m.rmsBlocks),
          update_ratio: cols(m.updBlocks),
        },
        diverged: m.diverged,
      };
    }),
  };
  return JSON.stringify(doc);
}

// ---------------------------------------------------------------- checkpoints

export interface CheckpointHeader {
  config: FlatConfig; step: number; tensors: number;
  /** gpt: the vocabulary, its characters in id order (metadata "vocab": code points, or bytes read as Latin-1). */
  vocab?: string;
}

/**
 * Reads a resnorm safetensors file's header: 8-byte little-endian length, JSON, and in its
 * __metadata__ the format tag, config and step. Throws an Error with a plain message when the
 * bytes are not such a file; the engine then checks the tensors themselves.
 */
export function readCheckpointHeader(bytes: Uint8Array): CheckpointHeader {
  if (bytes.length < 8) throw new Error(`the file is ${bytes.length} bytes, too short to be a safetensors checkpoint`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true), hi = dv.getUint32(4, true);
  if (hi !== 0 || lo > bytes.length - 8) throw new Error('not a safetensors file (its header length does not fit the file)');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + lo)));
  } catch {
    throw new Error('not a safetensors file (its header is not JSON)');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error('not a safetensors file (its header is not a JSON object)');
  const meta = header.__metadata__ as Record<string, unknown> | undefined;
  if (!meta || meta.format !== 'resnorm-safetensors-1') throw new Error('this safetensors file was not saved by ResNorm Playground (no resnorm metadata)');
  let cfgJson: unknown;
  try {
    cfgJson = JSON.parse(String(meta.config));
  } catch {
    throw new Error('the checkpoint\'s config is not valid JSON');
  }
  const { config, problems } = fromEngineConfig(cfgJson);
  if (problems.length) throw new Error(`the checkpoint's config is invalid: ${problems.join('; ')}`);
  const step = Number(meta.step);
  if (!Number.isInteger(step) || step < 0) throw new Error(`the checkpoint's step "${String(meta.step)}" is not a count`);
  const out: CheckpointHeader = { config, step, tensors: Object.keys(header).filter((k) => k !== '__metadata__').length };
  if (meta.vocab !== undefined) {
    let ids: unknown;
    try {
      ids = JSON.parse(String(meta.vocab));
    } catch {
      ids = null;
    }
    if (!Array.isArray(ids) || !ids.every((c) => Number.isInteger(c) && c >= 0 && c <= 0x10ffff && (c < 0xd800 || c > 0xdfff)))
      throw new Error('the checkpoint\'s vocabulary is not a list of characters');
    out.vocab = String.fromCodePoint(...(ids as number[]));
  }
  return out;
}

// ---------------------------------------------------------------- files

export function download(name: string, data: Blob | string | Uint8Array, type: string): void {
  const part: BlobPart = data instanceof Uint8Array ? new Uint8Array(data) : data;
  const url = URL.createObjectURL(new Blob([part], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** One entry of an exported chart's legend: a line (dashed or not), a box of colour, or a colour ramp. */
export type LegendItem =
  | { kind: 'line'; label: string; color: string; dash?: boolean }
  | { kind: 'box'; label: string; color: string; rim?: string }
  | { kind: 'ramp'; label: string; lut: Uint8ClampedArray; from: string; to: string };

/** Axes drawn around a canvas that has none of its own (the decision boundary): value ranges and names. */
export interface FrameAxes { x: [number, number]; y: [number, number]; ticks: number[]; xLabel: string; yLabel: string }

export interface PngPart { canvas: HTMLCanvasElement; axes?: FrameAxes }

/** Where each legend entry goes (device px), wrapping to new rows at `width`. */
export function layoutLegend(widths: number[], width: number, pad: number): { x: number; row: number }[] {
  const out: { x: number; row: number }[] = [];
  let x = pad, row = 0;
  for (const w of widths) {
    if (x > pad && x + w > width - pad) { x = pad; row++; }
    out.push({ x, row });
    x += w + 2 * pad;
  }
  return out;
}

/**
 * A chart as one white PNG: a title line, the legend (what each colour and line means), then the
 * chart's canvases, each with the axes it draws itself (uPlot's, the heatmap's) or, for a picture
 * without any (`axes`), a frame of ticks and axis names drawn here.
 */
export async function canvasesToPng(title: string, parts: (HTMLCanvasElement | PngPart)[], legend: LegendItem[] = [], gap = 8): Promise<Blob> {
  const items = parts.map((p) => (p instanceof HTMLCanvasElement ? { canvas: p } : p));
  const canvases = items.map((p) => p.canvas);
  const scale = Math.max(1, ...canvases.map((c) => c.width / Math.max(1, c.getBoundingClientRect().width || c.width)));
  const font = (px: number) => `${Math.round(px * scale)}px system-ui, sans-serif`;
  const out = document.createElement('canvas');
  const ctx = out.getContext('2d')!;
  const frameL = Math.round(44 * scale), frameB = Math.round(34 * scale), frameT = Math.round(6 * scale), frameR = Math.round(18 * scale);
  const partW = (p: PngPart) => p.canvas.width + (p.axes ? frameL + frameR : 0);
  const partH = (p: PngPart) => p.canvas.height + (p.axes ? frameT + frameB : 0);
  const w = Math.max(Math.round(320 * scale), ...items.map(partW));
  // legend geometry
  ctx.font = font(12);
  const sw = Math.round(22 * scale), pad = Math.round(8 * scale), rowH = Math.round(18 * scale);
  const entryW = legend.map((it) => (it.kind === 'ramp' ? sw * 3 + ctx.measureText(`${it.from} ${it.to}`).width + 3 * pad : sw + pad) + ctx.measureText(it.label).width);
  const places = layoutLegend(entryW, w, pad);
  const legendH = legend.length ? (Math.max(...places.map((p) => p.row)) + 1) * rowH + pad : 0;
  const titleH = Math.round(28 * scale);
  const h = titleH + legendH + items.reduce((s, p) => s + partH(p) + gap * scale, 0);
  out.width = w;
  out.height = Math.ceil(h);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#222';
  ctx.font = font(15);
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(title, 8 * scale, 19 * scale);
  // legend
  ctx.font = font(12);
  ctx.textBaseline = 'middle';
  legend.forEach((it, k) => {
    const { x, row } = places[k];
    const cy = titleH + row * rowH + rowH / 2;
    if (it.kind === 'line') {
      ctx.strokeStyle = it.color;
      ctx.lineWidth = 2.5 * scale;
      ctx.setLineDash(it.dash ? [6 * scale, 4 * scale] : []);
      ctx.beginPath(); ctx.moveTo(x, cy); ctx.lineTo(x + sw, cy); ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#222';
      ctx.fillText(it.label, x + sw + pad / 2, cy);
    } else if (it.kind === 'box') {
      const b = Math.round(11 * scale);
      ctx.fillStyle = it.color;
      ctx.fillRect(x + (sw - b) / 2, cy - b / 2, b, b);
      ctx.strokeStyle = it.rim ?? '#888';
      ctx.lineWidth = scale;
      ctx.strokeRect(x + (sw - b) / 2, cy - b / 2, b, b);
      ctx.fillStyle = '#222';
      ctx.fillText(it.label, x + sw + pad / 2, cy);
    } else {
      ctx.fillStyle = '#222';
      ctx.fillText(it.label, x, cy);
      let rx = x + ctx.measureText(it.label).width + pad;
      ctx.fillText(it.from, rx, cy);
      rx += ctx.measureText(it.from).width + pad / 2;
      const rw = sw * 3, rh = Math.round(10 * scale);
      for (let i = 0; i < rw; i++) {
        const k4 = Math.round((i / Math.max(1, rw - 1)) * 255) * 4;
        ctx.fillStyle = `rgb(${it.lut[k4]},${it.lut[k4 + 1]},${it.lut[k4 + 2]})`;
        ctx.fillRect(rx + i, cy - rh / 2, 1, rh);
      }
      ctx.fillStyle = '#222';
      ctx.fillText(it.to, rx + rw + pad / 2, cy);
    }
  });
  ctx.textBaseline = 'alphabetic';
  // the charts
  let y = titleH + legendH;
  for (const p of items) {
    if (!p.axes) {
      ctx.drawImage(p.canvas, 0, y);
    } else {
      const a = p.axes, cx = frameL, cy = y + frameT, cw = p.canvas.width, ch = p.canvas.height;
      ctx.drawImage(p.canvas, cx, cy);
      ctx.strokeStyle = '#555';
      ctx.lineWidth = scale;
      ctx.strokeRect(cx - 0.5, cy - 0.5, cw + 1, ch + 1);
      ctx.fillStyle = '#444';
      ctx.font = font(11);
      const fx = (v: number) => cx + ((v - a.x[0]) / (a.x[1] - a.x[0])) * cw;
      const fy = (v: number) => cy + ch - ((v - a.y[0]) / (a.y[1] - a.y[0])) * ch;
      ctx.textAlign = 'center';
      for (const t of a.ticks) {
        const tx = fx(t);
        ctx.fillRect(tx, cy + ch, scale, 4 * scale);
        ctx.fillText(fmtAxis(t), tx, cy + ch + 15 * scale);
      }
      ctx.fillText(a.xLabel, cx + cw / 2, cy + ch + 29 * scale);
      ctx.textAlign = 'right';
      for (const t of a.ticks) {
        const ty = fy(t);
        ctx.fillRect(cx - 4 * scale, ty, 4 * scale, scale);
        ctx.fillText(fmtAxis(t), cx - 6 * scale, ty + 4 * scale);
      }
      ctx.save();
      ctx.translate(11 * scale, cy + ch / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'center';
      ctx.fillText(a.yLabel, 0, 0);
      ctx.restore();
      ctx.textAlign = 'left';
    }
    y += partH(p) + gap * scale;
  }
  return new Promise((res, rej) => out.toBlob((b) => (b ? res(b) : rej(new Error('PNG encoding failed'))), 'image/png'));
}

/** An axis tick: -1.5 with a real minus sign. */
function fmtAxis(v: number): string {
  return String(Number(v.toPrecision(3))).replace('-', '−');
}
