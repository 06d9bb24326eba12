// Your own text for the gpt (issue 10): the checks the core makes (cpp/core/data.cpp), made on the
// page first so a bad file gets a notice naming the fault before any engine starts. Pure functions.

/** The core's vocabulary cap (kMaxVocab in cpp/core/data.h): distinct code points of a text. */
export const MAX_VOCAB = 4096;
/** Largest text the page takes: the engine holds it as UTF-8 plus 8 bytes per character. */
export const MAX_TEXT_MB = 10;
export const MAX_TEXT_BYTES = MAX_TEXT_MB * 1024 * 1024;
/** The shortest text a default gpt (context 64) can draw validation batches from (10% of it). */
export const MIN_TEXT_CHARS = 1000;

export type TextProblem =
  | { kind: 'size'; bytes: number }
  | { kind: 'utf8'; offset: number }
  | { kind: 'vocab'; count: number }
  | { kind: 'short'; chars: number }
  | { kind: 'few' };

export interface TextInfo { chars: number; vocab: number }

/**
 * Byte offset of the first byte that is not well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF; the same rules and offsets as the core's utf8_decode), or -1.
 */
export function utf8Error(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) { i++; continue; }
    let len: number, lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) { len = 3; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k < len; k++) {
      if (i + k >= n) return i;
      const t = b[i + k];
      if (t < (k === 1 ? lo : 0x80) || t > (k === 1 ? hi : 0xbf)) return i + k;
    }
    i += len;
  }
  return -1;
}

/** Characters (code points) and distinct characters of a well-formed string. */
export function textInfo(text: string): TextInfo {
  let chars = 0;
  const seen = new Set<string>();
  for (const ch of text) { chars++; seen.add(ch); }
  return { chars, vocab: seen.size };
}

/** Checks a file's bytes as the core will; returns the decoded text and its counts, or the first problem. */
export function checkTextBytes(bytes: Uint8Array): { text: string; info: TextInfo } | { problem: TextProblem } {
  if (bytes.length > MAX_TEXT_BYTES) return { problem: { kind: 'size', bytes: bytes.length } };
  const bad = utf8Error(bytes);
  if (bad >= 0) return { problem: { kind: 'utf8', offset: bad } };
  return checkText(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
}

/** The same checks on a pasted string (a browser string is UTF-16; lone surrogates count as invalid). */
export function checkText(text: string): { text: string; info: TextInfo } | { problem: TextProblem } {
  const lone = text.search(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  if (lone >= 0) return { problem: { kind: 'utf8', offset: new TextEncoder().encode(text.slice(0, lone)).length } };
  const size = new TextEncoder().encode(text).length;
  if (size > MAX_TEXT_BYTES) return { problem: { kind: 'size', bytes: size } };
  const info = textInfo(text);
  if (info.vocab > MAX_VOCAB) return { problem: { kind: 'vocab', count: info.vocab } };
  if (info.vocab < 2) return { problem: { kind: 'few' } };
  if (info.chars < MIN_TEXT_CHARS) return { problem: { kind: 'short', chars: info.chars } };
  return { text, info };
}
