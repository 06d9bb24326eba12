// Your own data in a playground widget (issue 10): the "your text" panel under the gpt's data field,
// the points tools under the mlp's decision boundary (on the main page, and in an embed whose
// `controls=` has the data field), and the check before a build that a link naming your own data
// finds it in this browser (links never carry it). The App (app.ts) owns the state and the notices.
import { translate, type MessageKey } from '../i18n';
import type { AppState } from '../state';
import type { Session } from '../session';
import type { FlatConfig } from '../config/fields';
import { OwnTextPanel } from './panel';
import { PointsEditor } from './pointsPanel';
import type { Pt } from './points';
import { MIN_POINTS } from './points';
import { ownPoints, ownText, ownTextReady } from './store';

export interface OwnDataHost {
  readonly state: AppState;
  readonly session: Session;
  /** An embed's `controls=` (undefined: the main page; null: all). */
  readonly controls: string[] | null | undefined;
  setField(key: string, value: string | number): void;
  /** Builds the runs again now, or soon (a burst of point edits makes one build). */
  rebuild(when: 'now' | 'soon'): void;
  /** Replaces the notice with this tag; `action` is a button on it. */
  notice(tag: string, kind: 'error' | 'warn' | 'info', text: string | (() => string), action?: { label: () => string; run: () => void }): void;
}

export class OwnData {
  /** "Your text" (gpt), where the data control is shown. */
  text: OwnTextPanel | null = null;
  /** "Your own points" (mlp), where the data control is shown. */
  points: PointsEditor | null = null;

  constructor(private readonly host: OwnDataHost) {}

  /** Whether this widget shows the uploads: always on the main page; in an embed, when `controls=` names data (or is `all`). */
  get allowed(): boolean {
    const c = this.host.controls;
    return c === undefined || c === null || c.includes('data');
  }

  /** "Your text" under the gpt's data field (its row is shown only where the data control is). */
  textPanel(): HTMLElement | null {
    if (this.host.state.config.kind !== 'gpt') return null;
    this.text?.dispose();
    this.text = new OwnTextPanel({
      lang: () => this.host.state.lang,
      useText: () => { if (this.host.state.config.data === 'text') this.host.rebuild('now'); else this.host.setField('data', 'text'); },
      notify: (kind, text) => this.host.notice('own', kind, text),
    });
    return this.text.el;
  }

  /** The points tools under the decision boundary, or null where this widget has none. */
  pointsEditor(): PointsEditor | null {
    if (!this.allowed) return null;
    this.points = new PointsEditor({
      lang: () => this.host.state.lang,
      currentPoints: () => this.currentPoints(),
      usePoints: () => { if (this.host.state.config.data !== 'points') this.host.setField('data', 'points'); else this.host.rebuild('soon'); },
      regenerate: () => this.host.setField('dseed', 1 + Math.floor(Math.random() * 4294967295)),  // new points, the same weights (data.seed)
      notify: (kind, text) => this.host.notice('own', kind, text),
    });
    return this.points;
  }

  /** The mlp's points now: your own, or run A's built-in dataset (train and test). */
  currentPoints(): Pt[] {
    if (this.host.state.config.data === 'points') return ownPoints() ?? [];
    const p = this.host.session.runs[0]?.engine?.info?.points;
    const out: Pt[] = [];
    if (!p) return out;
    for (const [x, y] of [[p.xTrain, p.yTrain], [p.xTest, p.yTest]] as const)
      for (let i = 0; i < y.length; i++) out.push({ x: x[2 * i], y: x[2 * i + 1], label: y[i] ? 1 : 0 });  // float32 values: they round-trip exactly
    return out;
  }

  /**
   * Before a build: whether the runs' own data is here. A shared link names your text or points,
   * which links never carry: if this browser has none, a notice says so and offers to load a file.
   */
  async ready(configs: readonly FlatConfig[], origin: 'link' | 'edit' = 'link'): Promise<boolean> {
    const mine = configs.some((c) => c.data === 'text') ? 'text' : configs.some((c) => c.data === 'points') ? 'points' : '';
    if (!mine) return true;
    await ownTextReady();
    if (mine === 'text' ? ownText() : (ownPoints()?.length ?? 0) >= MIN_POINTS) return true;
    const pick = mine === 'text' ? this.text : this.points;
    const t = (k: MessageKey) => translate(this.host.state.lang, k);
    // from a link: the data is not in it; from the Dataset menu: this browser has none yet
    const key = mine === 'text' ? (origin === 'edit' ? 'own.menu' : 'own.link') : (origin === 'edit' ? 'pts.menu' : 'pts.link');
    this.host.notice('own', 'warn', () => t(key),
      pick ? { label: () => t(mine === 'text' ? 'own.load_file' : 'pts.load_file'), run: () => pick.pickFile() } : undefined);
    return false;
  }

  dispose(): void { this.text?.dispose(); }
}
