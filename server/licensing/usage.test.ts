import { describe, expect, it } from 'vitest';
import { attributeUsage } from './usage';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 28, 12, minute));

describe('usage per licence', () => {
  it('uses up the oldest licence first', () => {
    const licences = [
      { id: 'b', size: 5, registeredAt: at(2) },
      { id: 'a', size: 10, registeredAt: at(1) },
    ];
    expect(Object.fromEntries(attributeUsage(licences, 0))).toEqual({ a: 0, b: 0 });
    expect(Object.fromEntries(attributeUsage(licences, 4))).toEqual({ a: 4, b: 0 });
    expect(Object.fromEntries(attributeUsage(licences, 12))).toEqual({ a: 10, b: 2 });
    expect(Object.fromEntries(attributeUsage(licences, 15))).toEqual({ a: 10, b: 5 });
  });
  it('never attributes more than a licence holds', () => {
    expect(Object.fromEntries(attributeUsage([{ id: 'a', size: 5, registeredAt: at(1) }], 9))).toEqual({ a: 5 });
  });
});
