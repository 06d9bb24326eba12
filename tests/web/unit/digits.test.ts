// The pure parts of the cnn's digits view (web/src/charts/digitsMath.ts): predictions, the confusion
// matrix and its accuracy, and a drawing turned into the model's input as make_digits made the training digits.
import { describe, expect, it } from 'vitest';
import {
  MNIST_MEAN, MNIST_STD, argmaxRows, confusionMatrix, drawingToInput, inkOf, inputToInk, matrixAccuracy,
} from '../../../web/src/charts/digitsMath';

describe('digits view maths', () => {
  it('argmax takes the first largest class of each row, as Trainer::evaluate counts', () => {
    const p = new Float32Array(30);
    p[3] = 0.9;                  // row 0 -> 3
    p[10 + 7] = p[10 + 2] = 0.5; // row 1: a tie -> the first, 2
    p[20 + 9] = 1;               // row 2 -> 9
    expect(Array.from(argmaxRows(p))).toEqual([3, 2, 9]);
  });

  it('counts the confusion matrix as [true][predicted] and reads its accuracy off the diagonal', () => {
    const y = [0, 0, 1, 1, 1, 9, 9];
    const pr = [0, 1, 1, 1, 7, 9, 4];
    const m = confusionMatrix(y, pr);
    expect(m.length).toBe(100);
    expect(m[0 * 10 + 0]).toBe(1);
    expect(m[0 * 10 + 1]).toBe(1);   // a true 0 predicted as 1: row 0, column 1
    expect(m[1 * 10 + 0]).toBe(0);
    expect(m[1 * 10 + 1]).toBe(2);
    expect(m[1 * 10 + 7]).toBe(1);
    expect(m[9 * 10 + 4]).toBe(1);
    expect(m.reduce((a, b) => a + b, 0)).toBe(7);
    expect(matrixAccuracy(m)).toBeCloseTo(4 / 7, 12);
    expect(matrixAccuracy(new Int32Array(100))).toBeNaN();
    expect(() => confusionMatrix([1, 2], [1])).toThrow(/2 labels but 1 predictions/);
  });

  it('pools a drawing to the model side with MNIST normalisation, centred by its centre of mass', () => {
    const src = 28, ink = new Float32Array(src * src);
    // a 4x4 block of full ink, off centre (rows 2..5, columns 20..23)
    for (let y = 2; y < 6; y++) for (let x = 20; x < 24; x++) ink[y * src + x] = 1;
    const v = drawingToInput(ink, src, 14);
    expect(v.length).toBe(196);
    const back = Array.from(v, inputToInk);
    // total ink is kept (4 pooled pixels of full ink = 16 source pixels / 4)
    expect(back.reduce((a, b) => a + b, 0)).toBeCloseTo(4, 4);
    // and moved to the middle: centre of mass of the pooled image at (6.5, 6.5) +- half a pooled pixel
    let mx = 0, my = 0, mass = 0;
    back.forEach((w, k) => { mass += w; mx += w * (k % 14); my += w * Math.floor(k / 14); });
    expect(Math.abs(mx / mass - 6.5)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(my / mass - 6.5)).toBeLessThanOrEqual(0.5);
    // the background is MNIST's normalised 0
    expect(v[0]).toBeCloseTo((0 - MNIST_MEAN) / MNIST_STD, 6);
    // an empty pad is all background; 28 -> 28 keeps pixels as they are
    expect(Array.from(drawingToInput(new Float32Array(784), 28, 28)).every((x) => Math.abs(x - (0 - MNIST_MEAN) / MNIST_STD) < 1e-6)).toBe(true);
    expect(() => drawingToInput(ink, 28, 10)).toThrow(/does not pool/);
  });

  it('feeds a run on raw pixels (data.pixels = raw) the pooled ink itself, as make_digits does: background exactly 0', () => {
    const src = 28, ink = new Float32Array(src * src);
    for (let y = 10; y < 18; y++) for (let x = 12; x < 15; x++) ink[y * src + x] = 0.75;
    const raw = drawingToInput(ink, src, 14, true), std = drawingToInput(ink, src, 14);
    expect(raw.length).toBe(196);
    expect(raw[0]).toBe(0);
    expect(Math.min(...raw)).toBe(0);
    expect(Math.max(...raw)).toBeLessThanOrEqual(0.75);
    // the same picture, standardised the other way (the reference: MNIST's mean and std)
    raw.forEach((r, k) => expect(std[k]).toBeCloseTo((r - MNIST_MEAN) / MNIST_STD, 5));
    // and back to ink for the grid: raw values are ink already, standardised ones are undone
    raw.forEach((r, k) => { expect(inkOf(r, true)).toBeCloseTo(r, 6); expect(inkOf(std[k], false)).toBeCloseTo(r, 5); });
  });
});
