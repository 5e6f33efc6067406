import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkExpression, evaluate, ExpressionError, FUNCTION_NAMES } from './index.js';

const scope = {
  s: '  Hello World  ',
  word: 'Hello',
  list: [3, 1, 2],
  words: ['a', 'b', 'c'],
  mixed: ['a', null, 1, { k: 1 }, [2]],
  objs: [{ id: 1 }, { id: 2 }],
  obj: { a: 1, b: 'two' },
  prices: ['1.5', '2.5'],
  nothing: null,
  jsonText: '{"a":[1,2],"b":null}',
};

const ev = (src: string): unknown => evaluate(src, scope);

describe('whitelist', () => {
  it('has exactly the documented functions', () => {
    expect(FUNCTION_NAMES).toEqual(
      [
        'abs', 'avg', 'bool', 'ceil', 'contains', 'default', 'endsWith', 'floor', 'join', 'json', 'keys', 'len',
        'lower', 'max', 'min', 'now', 'number', 'parseJson', 'round', 'split', 'startsWith', 'string', 'sum',
        'trim', 'upper', 'values',
      ].sort(),
    );
    for (const name of FUNCTION_NAMES) expect(checkExpression(`${name}`), name).toBeNull();
  });

  it('inherited names are not functions', () => {
    for (const name of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf']) {
      expect(checkExpression(`${name}(1)`), name).not.toBeNull();
    }
  });
});

describe('text functions', () => {
  it('len', () => {
    expect(ev('len(word)')).toBe(5);
    expect(ev('len(list)')).toBe(3);
    expect(ev('len(obj)')).toBe(2);
    expect(ev('len(nothing)')).toBe(0);
    expect(ev('len("")')).toBe(0);
    expect(() => ev('len(5)')).toThrow(/len\(\) expects text, a list or an object, got number/);
  });

  it('upper, lower, trim', () => {
    expect(ev('upper(word)')).toBe('HELLO');
    expect(ev('lower(word)')).toBe('hello');
    expect(ev('trim(s)')).toBe('Hello World');
    expect(ev('upper(nothing)')).toBe('');
    expect(ev('lower(12)')).toBe('12');
    expect(() => ev('upper(list)')).toThrow(/upper\(\) expects text, got array/);
  });

  it('contains on text, lists and objects', () => {
    expect(ev('contains(word, "ell")')).toBe(true);
    expect(ev('contains(word, "xyz")')).toBe(false);
    expect(ev('contains(list, 2)')).toBe(true);
    expect(ev('contains(list, "2")')).toBe(false);
    expect(ev('contains(words, "b")')).toBe(true);
    expect(ev('contains(objs, parseJson("{\\"id\\":2}"))')).toBe(true);
    expect(ev('contains(mixed, [2])')).toBe(true);
    expect(ev('contains(mixed, null)')).toBe(true);
    expect(ev('contains(obj, "a")')).toBe(true);
    expect(ev('contains(obj, "toString")')).toBe(false);
    expect(ev('contains(nothing, "a")')).toBe(false);
    expect(() => ev('contains(5, 1)')).toThrow(/contains\(\) expects/);
  });

  it('startsWith, endsWith', () => {
    expect(ev('startsWith(word, "He")')).toBe(true);
    expect(ev('startsWith(word, "lo")')).toBe(false);
    expect(ev('endsWith(word, "lo")')).toBe(true);
    expect(ev('endsWith(word, "He")')).toBe(false);
    expect(ev('startsWith(123, 1)')).toBe(true);
  });

  it('join and split', () => {
    expect(ev('join(words, "-")')).toBe('a-b-c');
    expect(ev('join(words)')).toBe('a,b,c');
    expect(ev('join(mixed, "|")')).toBe('a||1|{"k":1}|[2]');
    expect(ev('join(nothing, ",")')).toBe('');
    expect(() => ev('join(word, ",")')).toThrow(/join\(\) expects a list, got string/);
    expect(ev('split("a,b,c", ",")')).toEqual(['a', 'b', 'c']);
    expect(ev('split("a b", " ")')).toEqual(['a', 'b']);
    expect(ev('split("a,b")')).toEqual(['a', 'b']);
    expect(ev('split("abc", "")')).toEqual(['a', 'b', 'c']);
    expect(ev('split("", ",")')).toEqual([]);
    expect(ev('split(nothing, ",")')).toEqual([]);
    expect(ev('join(split("x;y", ";"), "+")')).toBe('x+y');
  });
});

describe('object functions', () => {
  it('keys and values', () => {
    expect(ev('keys(obj)')).toEqual(['a', 'b']);
    expect(ev('values(obj)')).toEqual([1, 'two']);
    expect(ev('keys(words)')).toEqual([0, 1, 2]);
    expect(ev('values(words)')).toEqual(['a', 'b', 'c']);
    expect(ev('keys(nothing)')).toEqual([]);
    expect(ev('values(nothing)')).toEqual([]);
    expect(() => ev('keys("x")')).toThrow(/keys\(\) expects an object or a list, got string/);
  });
});

describe('conversions', () => {
  it('number', () => {
    expect(ev('number("42")')).toBe(42);
    expect(ev('number(" 1.5 ")')).toBe(1.5);
    expect(ev('number(7)')).toBe(7);
    expect(ev('number(true)')).toBe(1);
    expect(ev('number("1e3")')).toBe(1000);
    expect(() => ev('number("abc")')).toThrow(/number\(\) expects a number, got "abc"/);
    expect(() => ev('number("")')).toThrow(/number\(\) expects a number/);
    expect(() => ev('number(nothing)')).toThrow(/got null/);
    expect(() => ev('number(list)')).toThrow(/got array/);
  });

  it('string', () => {
    expect(ev('string(42)')).toBe('42');
    expect(ev('string(true)')).toBe('true');
    expect(ev('string(nothing)')).toBe('');
    expect(ev('string(word)')).toBe('Hello');
    expect(ev('string(obj)')).toBe('{"a":1,"b":"two"}');
    expect(ev('string(list)')).toBe('[3,1,2]');
  });

  it('bool', () => {
    expect(ev('bool(1)')).toBe(true);
    expect(ev('bool(0)')).toBe(false);
    expect(ev('bool("yes")')).toBe(true);
    expect(ev('bool("x")')).toBe(true);
    for (const falsy of ['""', '"false"', '"FALSE"', '" 0 "', '"no"', '"off"']) {
      expect(ev(`bool(${falsy})`), falsy).toBe(false);
    }
    expect(ev('bool(nothing)')).toBe(false);
    expect(ev('bool([])')).toBe(false);
    expect(ev('bool(list)')).toBe(true);
    expect(ev('bool(obj)')).toBe(true);
  });

  it('json and parseJson', () => {
    expect(ev('json(obj)')).toBe('{"a":1,"b":"two"}');
    expect(ev('json(word)')).toBe('"Hello"');
    expect(ev('json(nothing)')).toBe('null');
    expect(ev('json(undefined)')).toBe('null');
    expect(ev('json(list, 2)')).toBe('[\n  3,\n  1,\n  2\n]');
    expect(() => ev('json(list, 99)')).toThrow(/json\(\) expects a whole number from 0 to 10/);
    expect(ev('parseJson(jsonText)')).toEqual({ a: [1, 2], b: null });
    expect(ev('parseJson(jsonText).a[1]')).toBe(2);
    expect(ev('parseJson("3")')).toBe(3);
    expect(() => ev('parseJson("{bad")')).toThrow(/parseJson\(\)/);
    expect(() => ev('parseJson(5)')).toThrow(/parseJson\(\) expects text, got number/);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => evaluate('json(c)', { c: circular })).toThrow(ExpressionError);
  });
});

describe('math functions', () => {
  it('round', () => {
    expect(ev('round(2.5)')).toBe(3);
    expect(ev('round(2.4)')).toBe(2);
    expect(ev('round(1.005, 2)')).toBe(1.01);
    expect(ev('round(1.23456, 3)')).toBe(1.235);
    expect(ev('round(1234, -2)')).toBe(1200);
    expect(ev('round(-2.5)')).toBe(-2);
    expect(ev('round("3.7")')).toBe(4);
    expect(ev('round(0.0000001234, 9)')).toBe(0.000000123);
    expect(() => ev('round(1, 1.5)')).toThrow(/whole number/);
    expect(() => ev('round(1, 99)')).toThrow(/from -15 to 15/);
    expect(() => ev('round(word)')).toThrow(/round\(\) expects a number, got "Hello"/);
  });

  it('floor, ceil, abs', () => {
    expect(ev('floor(2.7)')).toBe(2);
    expect(ev('floor(-2.1)')).toBe(-3);
    expect(ev('ceil(2.1)')).toBe(3);
    expect(ev('abs(-4)')).toBe(4);
    expect(ev('abs("-4")')).toBe(4);
    expect(() => ev('abs(true)')).toThrow(/abs\(\) expects a number, got boolean/);
    expect(() => ev('floor(nothing)')).toThrow(/got null/);
  });

  it('min, max, sum, avg on lists and argument lists', () => {
    expect(ev('min(list)')).toBe(1);
    expect(ev('max(list)')).toBe(3);
    expect(ev('sum(list)')).toBe(6);
    expect(ev('avg(list)')).toBe(2);
    expect(ev('min(5, 2, 9)')).toBe(2);
    expect(ev('max(5, 2, 9)')).toBe(9);
    expect(ev('sum(1, 2)')).toBe(3);
    expect(ev('avg(1, 2)')).toBe(1.5);
    expect(ev('min(7)')).toBe(7);
    expect(ev('sum(prices)')).toBe(4);
    expect(ev('min([])')).toBeNull();
    expect(ev('max([])')).toBeNull();
    expect(ev('avg([])')).toBeNull();
    expect(ev('sum([])')).toBe(0);
    expect(() => ev('sum(words)')).toThrow(/sum\(\) expects a number, got "a"/);
    expect(ev('max(values(obj)[0], 0)')).toBe(1);
    const big = Array.from({ length: 200_000 }, (_, i) => i);
    expect(evaluate('max(big)', { big })).toBe(199_999);
  });
});

describe('now and default', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('now() is the current ISO time', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2024-05-06T07:08:09.010Z'));
    expect(ev('now()')).toBe('2024-05-06T07:08:09.010Z');
    expect(ev('startsWith(now(), "2024-05-06")')).toBe(true);
  });

  it('default(x, fallback) replaces null, undefined and ""', () => {
    expect(ev('default(nothing, 5)')).toBe(5);
    expect(ev('default(undefined, "x")')).toBe('x');
    expect(ev('default("", "x")')).toBe('x');
    expect(ev('default(0, 5)')).toBe(0);
    expect(ev('default(false, 5)')).toBe(false);
    expect(ev('default(word, "x")')).toBe('Hello');
    expect(ev('default(list, [])')).toEqual([3, 1, 2]);
  });

  it('default reads its first argument leniently', () => {
    expect(ev('default(missing, 1)')).toBe(1);
    expect(ev('default(nothing.a.b, 2)')).toBe(2);
    expect(ev('default(obj.x.y, 3)')).toBe(3);
    expect(ev('default(obj.a, 3)')).toBe(1);
    // …but only its first argument, and never for prototype access.
    expect(() => ev('default(1, missing)')).toThrow(/Unknown identifier "missing"/);
    expect(() => ev('default(missing, 1) + missing')).toThrow(/Unknown identifier "missing"/);
    expect(checkExpression('default(obj.constructor, 1)')).toMatch(/not allowed/);
  });
});
