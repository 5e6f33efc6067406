import { describe, expect, it } from 'vitest';
import { checkExpression, compile, evaluate, ExpressionError, isTruthy } from './index.js';

const scope = {
  a: 1,
  b: 2,
  n: 5,
  total: 10,
  name: 'Ada',
  empty: '',
  zero: 0,
  nothing: null,
  undef: undefined,
  flag: true,
  list: [10, 20, 30],
  items: [{ price: 3, tags: ['x'] }, { price: 4, tags: [] }],
  user: { name: 'Ada', address: { city: 'London' }, 'odd key': 1 },
  i: 1,
  key: 'name',
};

function failure(expression: string, s: Record<string, unknown> = scope): ExpressionError {
  try {
    evaluate(expression, s);
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressionError);
    return err as ExpressionError;
  }
  throw new Error(`expected ${expression} to fail`);
}

describe('literals', () => {
  it.each([
    ['42', 42],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['1e3', 1000],
    ['"hi"', 'hi'],
    ["'hi'", 'hi'],
    ['"a\\nb"', 'a\nb'],
    ['true', true],
    ['false', false],
    ['null', null],
    ['undefined', undefined],
  ])('%s', (src, expected) => {
    expect(evaluate(src, {})).toEqual(expected);
  });

  it('array literals, nested and with expressions', () => {
    expect(evaluate('[1, 2]', {})).toEqual([1, 2]);
    expect(evaluate('[]', {})).toEqual([]);
    expect(evaluate('[a, [b, "c"], a + b]', scope)).toEqual([1, [2, 'c'], 3]);
  });
});

describe('arithmetic and precedence', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['2 * 3 % 4', 2],
    ['20 / 2 / 5', 2],
    ['7 % 3', 1],
    ['-a + b', 1],
    ['-(a + b)', -3],
    ['a - -b', 3],
    ['total + n', 15],
    ['total / 4', 2.5],
    ['1 / 0', Infinity],
    ['+"3" + 1', 4],
    ['+flag', 1],
  ])('%s = %s', (src, expected) => {
    expect(evaluate(src, scope)).toBe(expected);
  });

  it('+ concatenates when either side is text', () => {
    expect(evaluate('"Hello, " + name', scope)).toBe('Hello, Ada');
    expect(evaluate('name + 1', scope)).toBe('Ada1');
    expect(evaluate('1 + 2 + "x"', scope)).toBe('3x');
    expect(evaluate('"x" + 1 + 2', scope)).toBe('x12');
    // null/undefined join as "" and objects as JSON, like template interpolation.
    expect(evaluate('"v=" + nothing', scope)).toBe('v=');
    expect(evaluate('"v=" + list', scope)).toBe('v=[10,20,30]');
  });

  it('refuses arithmetic on non-numbers', () => {
    expect(failure('flag + 1').message).toMatch(/Operator "\+"/);
    expect(failure('nothing + 1').message).toMatch(/null/);
    expect(failure('"6" - 1').message).toMatch(/number\(\)/);
    expect(failure('list * 2').message).toMatch(/array/);
    expect(failure('-name').message).toMatch(/Operator "-"/);
    expect(failure('+"abc"').message).toMatch(/expects a number/);
  });

  it('small property check: a + b * c - d % e matches JavaScript', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed % 2001) - 1000;
    };
    const fn = compile('a + b * c - d % e');
    for (let k = 0; k < 200; k++) {
      const [a, b, c, d] = [rand(), rand(), rand(), rand()];
      const e = rand() || 7;
      expect(fn({ a, b, c, d, e })).toBe(a + b * c - (d % e));
    }
  });
});

describe('comparisons', () => {
  it.each([
    ['a < b', true],
    ['a > b', false],
    ['a <= 1', true],
    ['b >= 3', false],
    ['"apple" < "banana"', true],
    ['a == 1', true],
    ['a != 1', false],
    ['a === 1', true],
    ['a !== 1', false],
    ['"1" == a', true],
    ['"1" === a', false],
    ['nothing == undef', true],
    ['nothing === undef', false],
    ['list == list', true],
    ['[1] == [1]', false],
    ['list == "10,20,30"', false],
  ])('%s is %s', (src, expected) => {
    expect(evaluate(src, scope)).toBe(expected);
  });

  it('ordering needs two numbers or two strings', () => {
    expect(failure('"10" < 9').message).toMatch(/compares two numbers or two strings, got string and number/);
    expect(failure('nothing < 1').message).toMatch(/null/);
  });

  it('NaN is unordered', () => {
    expect(evaluate('x < 1 || x >= 1 || x == x', { x: Number.NaN })).toBe(false);
  });
});

describe('logic', () => {
  it('&& || ?? return operands and short-circuit', () => {
    expect(evaluate('false && missing', {})).toBe(false);
    expect(evaluate('true || missing', {})).toBe(true);
    expect(evaluate('a ?? missing', scope)).toBe(1);
    expect(evaluate('zero ?? missing', scope)).toBe(0);
    expect(evaluate('nothing ?? "fallback"', scope)).toBe('fallback');
    expect(evaluate('undef ?? 2', scope)).toBe(2);
    expect(evaluate('empty || "anon"', scope)).toBe('anon');
    expect(evaluate('name && "yes"', scope)).toBe('yes');
    expect(evaluate('zero && missing', scope)).toBe(0);
    expect(() => evaluate('true && missing', {})).toThrow(/Unknown identifier "missing"/);
  });

  it('empty arrays are falsy in logic', () => {
    expect(evaluate('[] || "none"', {})).toBe('none');
    expect(evaluate('!items[1].tags', scope)).toBe(true);
    expect(evaluate('items[0].tags ? "tagged" : "plain"', scope)).toBe('tagged');
  });

  it('! and the ternary', () => {
    expect(evaluate('!flag', scope)).toBe(false);
    expect(evaluate('!!name', scope)).toBe(true);
    expect(evaluate('!empty', scope)).toBe(true);
    expect(evaluate('total > 5 ? "big" : "small"', scope)).toBe('big');
    expect(evaluate('a ? b ? "ab" : "a" : "none"', scope)).toBe('ab');
    expect(evaluate('zero ? missing : "no"', scope)).toBe('no');
  });

  it('isTruthy is JS truthiness plus empty arrays', () => {
    for (const v of [false, 0, Number.NaN, '', null, undefined, []]) expect(isTruthy(v)).toBe(false);
    for (const v of [true, 1, -1, 'false', '0', [0], {}, { a: 1 }]) expect(isTruthy(v)).toBe(true);
  });
});

describe('identifiers and member access', () => {
  it('reads names and paths', () => {
    expect(evaluate('name', scope)).toBe('Ada');
    expect(evaluate('user.address.city', scope)).toBe('London');
    expect(evaluate('user["odd key"]', scope)).toBe(1);
    expect(evaluate("user['name']", scope)).toBe('Ada');
    expect(evaluate('user[key]', scope)).toBe('Ada');
    expect(evaluate('list[0]', scope)).toBe(10);
    expect(evaluate('list[i + 1]', scope)).toBe(30);
    expect(evaluate('items[i].price', scope)).toBe(4);
    expect(evaluate('items[0].tags[0]', scope)).toBe('x');
    expect(evaluate('list.length', scope)).toBe(3);
    expect(evaluate('name.length', scope)).toBe(3);
    expect(evaluate('name[0]', scope)).toBe('A');
  });

  it('missing own properties read as undefined', () => {
    expect(evaluate('user.age', scope)).toBeUndefined();
    expect(evaluate('list[10]', scope)).toBeUndefined();
    expect(evaluate('list[-1]', scope)).toBeUndefined();
    expect(evaluate('n.foo', scope)).toBeUndefined();
  });

  it('never reads inherited properties', () => {
    expect(evaluate('user.toString', scope)).toBeUndefined();
    expect(evaluate('user.hasOwnProperty', scope)).toBeUndefined();
    expect(evaluate('list.map', scope)).toBeUndefined();
    expect(evaluate('name.toUpperCase', scope)).toBeUndefined();
    expect(() => evaluate('toString', scope)).toThrow(/Unknown identifier "toString"/);
    expect(() => evaluate('hasOwnProperty', {})).toThrow(/Unknown identifier/);
  });

  it('unknown identifiers fail naming them', () => {
    const err = failure('total + missingVar');
    expect(err.message).toContain('Unknown identifier "missingVar"');
    expect(err.message).toContain('total + missingVar');
    expect(err.expression).toBe('total + missingVar');
  });

  it('a variable holding undefined is not unknown', () => {
    expect(evaluate('undef', scope)).toBeUndefined();
  });

  it('reading through null/undefined fails naming the path', () => {
    expect(failure('nothing.x').message).toContain('Cannot read "x" of null (nothing.x)');
    expect(failure('user.phone.number').message).toContain('Cannot read "number" of undefined (user.phone.number)');
    expect(failure('items[5].price').message).toContain('(items[5].price)');
    expect(failure('nothing[i]').message).toContain('of null (nothing[i])');
  });

  it('?. ends the chain with undefined', () => {
    expect(evaluate('nothing?.x', scope)).toBeUndefined();
    expect(evaluate('nothing?.x.y.z', scope)).toBeUndefined();
    expect(evaluate('user.phone?.number', scope)).toBeUndefined();
    expect(evaluate('items[5]?.price', scope)).toBeUndefined();
    expect(evaluate('nothing?.[0]', scope)).toBeUndefined();
    expect(evaluate('missing?.x', scope)).toBeUndefined();
    expect(evaluate('user?.address?.city', scope)).toBe('London');
    expect(evaluate('nothing?.x ?? "d"', scope)).toBe('d');
  });

  it('refuses prototype access', () => {
    for (const src of [
      'constructor',
      '__proto__',
      'prototype',
      'user.__proto__',
      'user.constructor',
      'user.prototype',
      "user['constructor']",
      'user["__proto__"]',
      'name.constructor',
      'list.constructor.constructor',
      'user?.constructor',
    ]) {
      expect(checkExpression(src), src).toMatch(/Access to "(constructor|__proto__|prototype)" is not allowed/);
      expect(() => evaluate(src, scope), src).toThrow(ExpressionError);
    }
  });

  it('refuses computed prototype access at run time', () => {
    expect(() => evaluate('user[k]', { user: {}, k: 'constructor' })).toThrow(/Access to "constructor" is not allowed/);
    expect(() => evaluate('user[k]', { user: {}, k: '__proto__' })).toThrow(/not allowed/);
    expect(() => evaluate('user["proto" + "type"]', { user: {} })).toThrow(/not allowed/);
    expect(() => evaluate('list["constr" + "uctor"]', scope)).toThrow(/not allowed/);
    // An own "__proto__" key (JSON.parse makes them) is refused as well.
    expect(() => evaluate('o.__proto__', { o: JSON.parse('{"__proto__": 1}') as unknown })).toThrow(/not allowed/);
  });

  it('reads only plain objects and arrays', () => {
    expect(failure('d.getTime', { d: new Date() }).message).toMatch(/Cannot read "getTime" of a Date value \(d\.getTime\)/);
    expect(failure('m.size', { m: new Map() }).message).toMatch(/Map/);
    expect(failure('f.call', { f: () => 1 }).message).toMatch(/function/);
    class Secret {
      token = 'x';
    }
    expect(failure('s.token', { s: new Secret() }).message).toMatch(/Cannot read "token"/);
    // Prototype-less objects are plain.
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { v: 1 });
    expect(evaluate('bare.v', { bare })).toBe(1);
  });

  it('property keys must be text or numbers', () => {
    expect(failure('user[nothing]').message).toMatch(/Property key must be text or a number, got null/);
    expect(failure('user[list]').message).toMatch(/got array/);
  });
});

describe('calls', () => {
  it('refuses method calls, naming them', () => {
    for (const [src, named] of [
      ['name.toUpperCase()', 'name.toUpperCase'],
      ['list.map(x)', 'list.map'],
      ['user.address.city.trim()', 'user.address.city.trim'],
      ['list["join"](",")', 'list["join"]'],
    ] as const) {
      const msg = checkExpression(src);
      expect(msg, src).toContain('Method calls are not allowed');
      expect(msg, src).toContain(named);
      expect(() => evaluate(src, scope)).toThrow(ExpressionError);
    }
  });

  it('refuses unknown functions and scope functions at check time', () => {
    expect(checkExpression('eval("1")')).toContain('Unknown function "eval"');
    expect(checkExpression('Function("x")')).toContain('Unknown function "Function"');
    expect(checkExpression('require("fs")')).toContain('Unknown function "require"');
    expect(checkExpression('fn()')).toContain('Unknown function "fn"');
    expect(() => evaluate('fn()', { fn: () => 1 })).toThrow(/Unknown function "fn"/);
    expect(checkExpression('len(x)(y)')).toContain('Only built-in functions can be called');
    expect(checkExpression('(len)(x)')).toBeNull(); // jsep drops parentheses: same as len(x)
  });

  it('checks argument counts at check time', () => {
    expect(checkExpression('len()')).toContain('len() takes 1 argument, got 0');
    expect(checkExpression('contains("a")')).toContain('contains() takes 2 arguments, got 1');
    expect(checkExpression('round(1, 2, 3)')).toContain('round() takes 1 to 2 arguments, got 3');
    expect(checkExpression('min()')).toContain('min() takes at least 1 argument');
    expect(checkExpression('now(1)')).toContain('now() takes 0 arguments, got 1');
  });

  it('a function value in scope is just a value', () => {
    const fn = (): number => 1;
    expect(evaluate('fn', { fn })).toBe(fn);
  });
});

describe('checkExpression', () => {
  it('returns null for valid expressions, even with unknown names', () => {
    for (const src of ['a + b', 'items[0].price * 2', 'x ? y : z', 'len(list) > 0 && upper(name) == "ADA"', 'a?.b', '  a  ']) {
      expect(checkExpression(src), src).toBeNull();
    }
  });

  it.each([
    ['1 +', /Expected expression after \+/],
    ['(a', /Unclosed \(/],
    ['a)', /Unexpected/],
    ['"open', /Unclosed quote/],
    ['', /Empty expression/],
    ['   ', /Empty expression/],
    ['a b', /Unexpected "b" after "a"/],
    ['x in y', /"in", "typeof" and "new" are not supported/],
    ['typeof x', /not supported/],
    ['new Date()', /Unexpected/],
    ['a, b', /Unexpected|single expression/],
    ['a = 1', /Unexpected "="/],
    ['x => 1', /Unexpected/],
    ['{a: 1}', /Unexpected "\{"/],
    ['`t`', /Unexpected/],
    ['this', /"this" is not supported/],
    ['this.x', /"this" is not supported/],
    ['a ** 2', /Operator "\*\*" is not supported/],
    ['a | b', /Operator "\|" is not supported/],
    ['a & b', /Operator "&" is not supported/],
    ['a << 1', /Operator "<<" is not supported/],
    ['~a', /Operator "~" is not supported/],
    ['[, 1]', /Array holes/],
    ['a++', /./],
  ])('%s is refused', (src, pattern) => {
    const msg = checkExpression(src);
    expect(msg).toMatch(pattern);
    expect(msg).toContain(`\`${src}\``);
    expect(() => evaluate(src, scope)).toThrow(ExpressionError);
  });

  it('refuses very long and very deep expressions without crashing', () => {
    expect(checkExpression('1+'.repeat(6000) + '1')).toMatch(/longer than|too deeply nested/);
    expect(checkExpression('('.repeat(3000) + '1' + ')'.repeat(3000))).toMatch(/too deeply nested/);
    expect(checkExpression('-'.repeat(3000) + '1')).toMatch(/too deeply nested/);
    const deepOk = '('.repeat(50) + '1' + ')'.repeat(50);
    expect(evaluate(deepOk, {})).toBe(1);
  });
});

describe('compile', () => {
  it('returns a reusable function', () => {
    const fn = compile('price * qty');
    expect(fn({ price: 2, qty: 3 })).toBe(6);
    expect(fn({ price: 5, qty: 5 })).toBe(25);
    expect(() => fn({ price: 1 })).toThrow(/Unknown identifier "qty"/);
  });

  it('throws syntax errors at compile time, every time', () => {
    expect(() => compile('1 +')).toThrow(ExpressionError);
    expect(() => compile('1 +')).toThrow(/Expected expression/);
  });

  it('does not modify the scope', () => {
    const s = Object.freeze({ list: Object.freeze([3, 1, 2]) });
    expect(evaluate('values(list)', s)).toEqual([3, 1, 2]);
    expect(s.list).toEqual([3, 1, 2]);
  });
});
