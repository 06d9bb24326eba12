// Text of the embedding work (issue 20) in both languages, kept apart from i18n/en.ts and zh.ts while
// another change edits those tables: the lead may move these keys there when the branches merge.
import type { Lang } from './state';

const TEXT = {
  settings: { en: 'Settings', zh: '设置' },
  starting: { en: 'Starting…', zh: '即将开始…' },
  starting_title: { en: 'Training starts when the build ends (press again to cancel)', zh: '构建完成后开始训练（再按一次取消）' },
  one_thread: { en: '1 thread: this page is not cross-origin isolated', zh: '1 个线程：本页未启用跨源隔离' },
  one_thread_title: {
    en: 'Several threads need a page sent with Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy; here the engine falls back to one thread (same results, slower).',
    zh: '多线程需要页面带有 Cross-Origin-Opener-Policy 和 Cross-Origin-Embedder-Policy 响应头；这里引擎退回单线程（结果相同，较慢）。',
  },
} as const;

export type EmbedTextKey = keyof typeof TEXT;

export function embedText(lang: Lang, key: EmbedTextKey): string {
  return TEXT[key][lang === 'zh' ? 'zh' : 'en'];
}
