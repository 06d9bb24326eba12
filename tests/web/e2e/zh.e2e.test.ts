// Every UI string in 简体中文 went through the dictionary (issue 20, item 7): the page is rendered in
// zh with every panel, in a comparison (the chart legends name the runs) and alone, for each model
// kind, after a step (so the read-outs are filled), with the Export and Panels menus open. Every text
// node and every aria-label, title, placeholder and alt is collected, and two rules are applied:
//  1. a string with no Chinese in it may hold only numbers, units, key=value settings, preset names
//     and the proper names in ALLOW (a bare "PNG", "settings" or "A · base" fails);
//  2. any Latin word in a Chinese string must be one the zh dictionary itself uses or one in ALLOW.
// The generated text samples (a model's output) and canvas pixels are not UI strings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { zh } from '../../../web/src/i18n/zh';
import { start, waitBuilt, type Harness } from './harness';

/** Proper names, symbols and units kept as they are in Chinese text. Keep it short. */
export const ALLOW = new Set([
  'LayerNorm', 'RMSNorm', 'BatchNorm', 'ReLU', 'GELU', 'tanh', 'AdamW', 'Adam', 'SGD', 'MNIST', 'Pre-LN', 'Post-LN',
  'ReZero', 'DeepNorm', 'MLP', 'GPT', 'CNN', 'CSV', 'JSON', 'JSONL', 'safetensors', 'eps', 'lr', 'ms', 'KB', 'MB', 'MiB',
  'GB', 'px', 'ResNorm', 'Playground', 'GitHub',
  'English',  // the language menu names each language in itself
]);

const CJK = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]/;
/** The Latin words of a string left after removing what is not language: numbers, key=value, ids. */
export function latinWords(s: string): string[] {
  const rest = s
    .replace(/\b[a-z_.]+\d?=[^\s,;·）)]+/g, ' ')          // settings as in links: norm=layernorm, b.eps=1e-5
    .replace(/\b[a-z_]+(?:\.[a-z0-9_]+)+\b/g, ' ')         // parameter and config paths: blocks.0.norm_1, model.eps
    .replace(/\b[a-z0-9]+(?:-[a-z0-9]+)+\b/g, ' ')        // preset and experiment ids: mlp-spiral, cnn-eps
    .replace(/[-+−]?\d[\d.,]*(?:e[-+−]?\d+)?/gi, ' ');    // numbers, 1e-5 included
  return (rest.match(/[A-Za-z][A-Za-z0-9_'’-]*/g) ?? []).map((w) => w.replace(/[-'’_]+$/, '')).filter((w) => w.length >= 2);
}

/** Latin words the zh dictionary uses itself (formulas, names it keeps on purpose), found the same way. */
const ZH_WORDS = new Set(Object.values(zh).flatMap((v) => latinWords(v)));

/** The strings that break the rules (empty: every string went through the dictionary). */
export function untranslated(strings: string[]): string[] {
  const bad: string[] = [];
  for (const s of strings) {
    const words = latinWords(s);
    const ok = CJK.test(s) ? words.every((w) => ALLOW.has(w) || ZH_WORDS.has(w)) : words.every((w) => ALLOW.has(w));
    if (!ok) bad.push(s);
  }
  return [...new Set(bad)];
}

/** Every visible-or-announced string of the page: text nodes and the attributes read aloud or shown. */
async function uiStrings(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    // not UI text: scripts, styles, <noscript> (not shown when scripts run), a model's samples, and
    // anything marked as English on purpose (a paper's authors and title: lang="en")
    const skip = (el: Element | null) => !!el?.closest('script, style, noscript, .rp-sample pre, .rp-sample-col pre, [lang="en"]');
    const walk = (root: Document | ShadowRoot | Element) => {
      const tw = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
      for (let n: Node | null = tw.currentNode; n; n = tw.nextNode()) {
        if (n.nodeType === Node.TEXT_NODE) {
          const t = n.textContent?.trim();
          if (t && !skip(n.parentElement)) out.push(t);
        } else if (n instanceof Element) {
          for (const a of ['aria-label', 'title', 'placeholder', 'alt']) { const v = n.getAttribute(a)?.trim(); if (v && !skip(n)) out.push(v); }
          if (n.shadowRoot) walk(n.shadowRoot);
        }
      }
    };
    walk(document.body);
    out.push(document.title);
    return out;
  });
}

let H: Harness;
beforeAll(async () => { H = await start(); });
afterAll(async () => { await H?.close(); });

describe('the rule itself', () => {
  it('flags the strings that reached the page untranslated, and passes numbers, names and settings', () => {
    expect(untranslated(['A · base', 'B · same as A', 'PNG', 'settings', 'Adam β1', '运行 A 的 settings'])).toEqual(['A · base', 'B · same as A', 'PNG', 'settings', '运行 A 的 settings']);
    expect(untranslated(['A · 基准', 'B · norm=rmsnorm, eps=0', '12.5 ms', 'LayerNorm', 'mlp-spiral', '1e-5', '存为图片', '损失 3.21',
      '第 1 步的损失不是有限值：blocks.0.norm_1（第 0 块）除以零方差（model.eps = 0）'])).toEqual([]);
    expect(untranslated(['运行 A 在第 1 步发散：loss is not finite at step 1'])).toHaveLength(1);
  });
});

describe('简体中文: every panel', () => {
  const pages: [string, string][] = [
    ['mlp, compare', 'index.html#lang=zh&preset=mlp-spiral&mode=compare&runs=2&b.norm=rmsnorm'],
    ['mlp, compare of equal runs', 'index.html#lang=zh&preset=mlp-spiral&mode=compare&runs=2'],  // "A · base", "B · same as A"
    ['mlp, one run', 'index.html#lang=zh&preset=mlp-spiral'],
    ['gpt, compare', 'index.html#lang=zh&kind=gpt&depth=2&width=32&heads=2&context=16&batch=4&mode=compare&runs=2&b.placement=post'],
    ['cnn, compare', 'index.html#lang=zh&exp=cnn-eps'],
  ];
  for (const [name, path] of pages) {
    it(`${name}: no UI string bypasses the dictionary`, async () => {
      const { page } = await H.open(path, { width: 1400, height: 1000 });
      await waitBuilt(page, 120_000);
      await page.locator('body').press('n');  // one step: read-outs, legends and notices filled in
      await page.waitForFunction(() => (window as any).__resnorm.apps[0].session.steps >= 1, null, { timeout: 120_000 });
      await page.waitForTimeout(500);
      const strings = await uiStrings(page);
      // the header menus, opened
      for (const sel of ['[data-action="export-menu"]', '[data-action="panels-menu"]']) {
        const b = page.locator(sel).first();
        if (await b.count()) { await b.click(); strings.push(...(await uiStrings(page))); await b.click(); }
      }
      expect(strings.length).toBeGreaterThan(50);
      expect(strings.some((s) => CJK.test(s))).toBe(true);
      expect(untranslated(strings), `${name}: strings not from the zh dictionary`).toEqual([]);
      await page.close();
    });
  }
});
