// The core's divergence messages (cpp/core/trainer.cpp, model.cpp zero_variance_site) in the page's
// language. The core writes them in English for the CLI and the logs; the page shows them inside its
// own sentences, so in Chinese the known forms are rewritten and anything else is left as it came.
import type { Lang } from '../state';

const ZH: [RegExp, string][] = [
  [/loss is not finite at step (\d+)/g, '第 $1 步的损失不是有限值'],
  [/gradient is not finite in block (\d+) at step (\d+)/g, '第 $2 步第 $1 块的梯度不是有限值'],
  [/gradient is not finite outside the blocks at step (\d+)/g, '第 $1 步块之外的梯度不是有限值'],
  [/: division by zero variance in (\S+) \(block (\d+)\) \(model\.eps = ([^)]+)\)/g, '：$1（第 $2 块）除以零方差（model.eps = $3）'],
  [/: division by zero variance in (\S+) \(model\.eps = ([^)]+)\)/g, '：$1 除以零方差（model.eps = $2）'],
];

export function engineText(lang: Lang, msg: string): string {
  if (lang !== 'zh') return msg;
  return ZH.reduce((s, [re, to]) => s.replace(re, to), msg);
}
