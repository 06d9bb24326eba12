// UI text: both languages have every message, and the experiments' claims match what this core
// measures (issue 10: our RMSNorm step is no cheaper than LayerNorm's, so the text must not say so).
import { describe, expect, it } from 'vitest';
import { en } from '../../../web/src/i18n/en';
import { zh } from '../../../web/src/i18n/zh';

describe('i18n', () => {
  it('has every English key in Chinese, and no Chinese key English lacks', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const [k, v] of Object.entries(zh)) expect(v.length, k).toBeGreaterThan(0);
  });

  it('uses the same {placeholders} in both languages', () => {
    const vars = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const k of Object.keys(en) as (keyof typeof en)[]) expect(vars(zh[k]), k).toEqual(vars(en[k]));
  });

  it('does not claim RMSNorm is cheaper or faster here (it measures about the same as LayerNorm)', () => {
    const keys = ['exp.rmsnorm.short', 'exp.rmsnorm.body', 'exp.rmsnorm.look'] as const;
    for (const k of keys) {
      expect(en[k], k).not.toMatch(/cheaper|costs? less|faster|a little lower|is lower/i);
      expect(zh[k], k).not.toMatch(/稍省|更省|更便宜|更快|稍低|较低/);
    }
    expect(en['exp.rmsnorm.short']).toMatch(/about the same/);
    expect(zh['exp.rmsnorm.short']).toMatch(/差不多|大致相同/);
  });
});

describe('the core’s divergence messages in Chinese', () => {
  it('rewrites the forms trainer.cpp writes and leaves English and unknown text as it came', async () => {
    const { engineText } = await import('../../../web/src/i18n/engine');
    const eps = 'loss is not finite at step 1: division by zero variance in blocks.0.norm_1 (block 0) (model.eps = 0)';
    expect(engineText('zh', eps)).toBe('第 1 步的损失不是有限值：blocks.0.norm_1（第 0 块）除以零方差（model.eps = 0）');
    expect(engineText('zh', 'loss is not finite at step 12: division by zero variance in stem.norm_out (model.eps = 0)'))
      .toBe('第 12 步的损失不是有限值：stem.norm_out 除以零方差（model.eps = 0）');
    expect(engineText('zh', 'gradient is not finite in block 3 at step 40')).toBe('第 40 步第 3 块的梯度不是有限值');
    expect(engineText('zh', 'gradient is not finite outside the blocks at step 7')).toBe('第 7 步块之外的梯度不是有限值');
    expect(engineText('en', eps)).toBe(eps);
    expect(engineText('zh', 'worker crashed')).toBe('worker crashed');
  });
});
