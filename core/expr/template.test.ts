import { describe, expect, it } from 'vitest';
import { checkTemplate, ExpressionError, renderTemplate, renderValue, templateExpressions } from './index.js';

const scope = {
  name: 'Ada',
  total: 10,
  n: 5,
  ok: true,
  nothing: null,
  items: [{ price: 3 }, { price: 4 }],
  user: { id: 7, tags: ['a'] },
};

describe('renderTemplate', () => {
  it('returns strings without {{ unchanged', () => {
    const text = 'plain text } { }} no templates';
    expect(renderTemplate(text, scope)).toBe(text);
    expect(renderTemplate('', scope)).toBe('');
  });

  it('renders simple names and expressions', () => {
    expect(renderTemplate('{{name}}', scope)).toBe('Ada');
    expect(renderTemplate('{{total + n}}', scope)).toBe(15);
    expect(renderTemplate('{{items[0].price}}', scope)).toBe(3);
    expect(renderTemplate('{{ upper(name) }}', scope)).toBe('ADA');
  });

  it('keeps the type of a single template', () => {
    expect(renderTemplate('{{ total }}', scope)).toBe(10);
    expect(renderTemplate('{{ ok }}', scope)).toBe(true);
    expect(renderTemplate('{{ nothing }}', scope)).toBeNull();
    expect(renderTemplate('{{ user.missing }}', scope)).toBeUndefined();
    expect(renderTemplate('{{ items }}', scope)).toBe(scope.items);
    expect(renderTemplate('{{ user }}', scope)).toEqual({ id: 7, tags: ['a'] });
    expect(renderTemplate('{{\n  total > 5\n}}', scope)).toBe(true);
  });

  it('interpolates mixed strings', () => {
    expect(renderTemplate('Hello {{ name }}!', scope)).toBe('Hello Ada!');
    expect(renderTemplate('{{ total }} items', scope)).toBe('10 items');
    expect(renderTemplate(' {{ total }}', scope)).toBe(' 10');
    expect(renderTemplate('{{ total }}{{ n }}', scope)).toBe('105');
    expect(renderTemplate('a={{ nothing }};b={{ user.missing }};', scope)).toBe('a=;b=;');
    expect(renderTemplate('ok={{ ok }}', scope)).toBe('ok=true');
    expect(renderTemplate('items={{ items }}', scope)).toBe('items=[{"price":3},{"price":4}]');
    expect(renderTemplate('user: {{ user }}', scope)).toBe('user: {"id":7,"tags":["a"]}');
    expect(renderTemplate('{{ "{{" }} and {{ "}}" }}', scope)).toBe('{{ and }}');
  });

  it('handles }} inside string literals', () => {
    expect(renderTemplate('{{ "a}}b" }}', scope)).toBe('a}}b');
    expect(renderTemplate("x{{ name + '}}' }}y", scope)).toBe('xAda}}y');
  });

  it('throws ExpressionError for failing expressions, naming them', () => {
    expect(() => renderTemplate('Hi {{ missing }}', scope)).toThrow(ExpressionError);
    expect(() => renderTemplate('Hi {{ missing }}', scope)).toThrow(/Unknown identifier "missing" in expression `missing`/);
    expect(() => renderTemplate('{{ constructor }}', scope)).toThrow(/Access to "constructor" is not allowed/);
    expect(() => renderTemplate('{{ name.toUpperCase() }}', scope)).toThrow(/Method calls are not allowed/);
    expect(() => renderTemplate('{{ 1 + }}', scope)).toThrow(/Expected expression/);
    expect(() => renderTemplate('Hi {{ name', scope)).toThrow(/Unclosed "\{\{" at position 3 in template `Hi \{\{ name`/);
    expect(() => renderTemplate('x {{ f }}', { f: () => 1 })).toThrow(/Cannot turn a function into text in expression `f`/);
  });

  it('short-circuits inside templates', () => {
    expect(renderTemplate('{{ false && missing }}', scope)).toBe(false);
    expect(renderTemplate('{{ nothing?.x ?? "none" }}', scope)).toBe('none');
  });
});

describe('renderValue', () => {
  it('renders strings inside arrays and objects, not keys', () => {
    const value = {
      url: 'https://x/{{ user.id }}',
      count: '{{ total }}',
      '{{ name }}': 'key stays',
      nested: [{ v: '{{ items[1].price }}' }, 'lit', 3, null, true],
    };
    expect(renderValue(value, scope)).toEqual({
      url: 'https://x/7',
      count: 10,
      '{{ name }}': 'key stays',
      nested: [{ v: 4 }, 'lit', 3, null, true],
    });
    expect(value.count).toBe('{{ total }}'); // input untouched
  });

  it('passes other values through', () => {
    expect(renderValue(5, scope)).toBe(5);
    expect(renderValue(null, scope)).toBeNull();
    const date = new Date(0);
    expect(renderValue(date, scope)).toBe(date);
    expect(renderValue('{{ items }}', scope)).toBe(scope.items);
  });

  it('keeps a "__proto__" key as a plain key', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "{{ name }}"}}') as unknown;
    const out = renderValue(input, scope) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('checkTemplate', () => {
  it('returns [] for good templates and plain text', () => {
    expect(checkTemplate('plain')).toEqual([]);
    expect(checkTemplate('Hi {{ name }}, you owe {{ round(total * 1.2, 2) }}')).toEqual([]);
    expect(checkTemplate('{{ unknownVariable }}')).toEqual([]); // names are resolved at run time
  });

  it('reports every problem', () => {
    const problems = checkTemplate('a {{ b + }} c {{ foo(1) }} d {{ x.y() }} e {{ ok }}');
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/Expected expression after \+ .*`b \+`/);
    expect(problems[1]).toMatch(/Unknown function "foo"/);
    expect(problems[2]).toMatch(/Method calls are not allowed/);
  });

  it('reports unclosed and empty braces', () => {
    expect(checkTemplate('Hello {{ name')).toEqual(['Unclosed "{{" at position 6 in template `Hello {{ name`']);
    expect(checkTemplate('{{ ok }} and {{')).toHaveLength(1);
    expect(checkTemplate('x {{ }} y')[0]).toMatch(/Empty "\{\{ \}\}" at position 2/);
    expect(checkTemplate('{{ "unclosed }}')[0]).toMatch(/Unclosed quote/);
  });

  it('reports bad syntax and refused access', () => {
    expect(checkTemplate('{{ a b }}')[0]).toMatch(/Unexpected "b"/);
    expect(checkTemplate('{{ a.__proto__ }}')[0]).toMatch(/Access to "__proto__" is not allowed/);
    expect(checkTemplate("{{ a['constructor'] }}")[0]).toMatch(/not allowed/);
    expect(checkTemplate('{{ a ** 2 }}')[0]).toMatch(/Operator "\*\*" is not supported/);
  });
});

describe('templateExpressions', () => {
  it('lists expressions in order, trimmed', () => {
    expect(templateExpressions('no templates')).toEqual([]);
    expect(templateExpressions('{{ a }} and {{b+1}} and {{ bad + }}')).toEqual(['a', 'b+1', 'bad +']);
    expect(templateExpressions('{{ ok }} {{ unclosed')).toEqual(['ok']);
  });
});
