import { describe, expect, it } from 'vitest';
import { loadWorkflow, ManifestError } from './manifest.js';
import { type Problem, validateWorkflow } from './validate.js';

const ok = {
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'greet', type: 'log', params: { message: 'Hello {{name}}' } },
    { id: 'end', type: 'end' },
  ],
  edges: [
    { from: 'start', to: 'greet' },
    { from: 'greet', to: 'end' },
  ],
};

function problems(spec: unknown): Problem[] {
  const r = validateWorkflow(spec);
  expect(r.ok).toBe(false);
  return r.problems;
}

const withNode = (node: Record<string, unknown>) => ({
  nodes: [{ id: 'start', type: 'start' }, node],
  edges: [{ from: 'start', to: node.id }],
});

describe('validateWorkflow', () => {
  it('accepts the hello workflow and applies defaults', () => {
    const r = validateWorkflow(ok);
    expect(r.ok).toBe(true);
    expect(r.workflow?.nodes[1]?.onError).toBe('fail');
    expect(r.workflow?.inputs).toEqual({});
  });

  it('reports an unknown node type with the node id and field', () => {
    expect(problems(withNode({ id: 'x', type: 'teleport' }))).toEqual([
      expect.objectContaining({ code: 'unknown_type', nodeId: 'x', field: 'type' }),
    ]);
  });

  it('reports a missing param by name', () => {
    expect(problems(withNode({ id: 'go', type: 'browser.open', params: {} }))).toEqual([
      expect.objectContaining({ code: 'missing_param', nodeId: 'go', field: 'params.url', message: 'is required' }),
    ]);
    expect(problems(withNode({ id: 'say', type: 'log' }))).toEqual([
      expect.objectContaining({ code: 'missing_param', nodeId: 'say', field: 'params.message' }),
    ]);
  });

  it('reports a param of the wrong type and an unknown param', () => {
    const p = problems(withNode({ id: 'w', type: 'wait', params: { seconds: 'soon' } }));
    expect(p).toContainEqual(expect.objectContaining({ code: 'invalid_param', nodeId: 'w', field: 'params.seconds' }));
    const q = problems(withNode({ id: 'c', type: 'browser.click', params: { selector: '#a', button: 'left' } }));
    expect(q).toContainEqual(expect.objectContaining({ code: 'invalid_param', nodeId: 'c' }));
  });

  it('requires exactly one of seconds or ms on wait', () => {
    expect(problems(withNode({ id: 'w', type: 'wait', params: {} }))[0]).toMatchObject({ nodeId: 'w', message: expect.stringContaining('exactly one') });
    expect(validateWorkflow(withNode({ id: 'w', type: 'wait', params: { seconds: '{{ delay }}' } })).ok).toBe(true);
  });

  it('reports dangling edges at both ends', () => {
    const p = problems({ ...ok, edges: [...ok.edges, { from: 'greet', to: 'nowhere' }, { from: 'ghost', to: 'end' }] });
    expect(p).toContainEqual(expect.objectContaining({ code: 'dangling_edge', field: 'edges[2].to' }));
    expect(p).toContainEqual(expect.objectContaining({ code: 'dangling_edge', field: 'edges[3].from' }));
  });

  it('reports unreachable nodes', () => {
    const p = problems({ ...ok, nodes: [...ok.nodes, { id: 'orphan', type: 'log', params: { message: 'x' } }] });
    expect(p).toEqual([expect.objectContaining({ code: 'unreachable', nodeId: 'orphan' })]);
  });

  it('counts onError targets as reachable', () => {
    const spec = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'risky', type: 'http', params: { url: 'http://127.0.0.1:1/' }, onError: 'recover' },
        { id: 'recover', type: 'log', params: { message: 'recovered' } },
      ],
      edges: [{ from: 'start', to: 'risky' }],
    };
    expect(validateWorkflow(spec).ok).toBe(true);
  });

  it('reports a cycle outside forEach', () => {
    const spec = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'a', type: 'log', params: { message: 'a' } },
        { id: 'b', type: 'log', params: { message: 'b' } },
      ],
      edges: [
        { from: 'start', to: 'a' },
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ],
    };
    expect(problems(spec)).toContainEqual(expect.objectContaining({ code: 'cycle', message: expect.stringContaining('a -> b -> a') }));
  });

  it('reports problems inside a forEach body under the loop node', () => {
    const spec = withNode({
      id: 'loop',
      type: 'forEach',
      params: { items: '{{ rows }}', body: { nodes: [{ id: 'inner', type: 'browser.click', params: {} }] } },
    });
    expect(problems(spec)).toEqual([
      expect.objectContaining({ code: 'missing_param', nodeId: 'loop', field: 'params.body.nodes[inner].params.selector' }),
    ]);
  });

  it('accepts a one-node forEach body without edges, and rejects a body with two entries', () => {
    const body = { nodes: [{ id: 'inner', type: 'log', params: { message: '{{ item }}' } }] };
    expect(validateWorkflow(withNode({ id: 'loop', type: 'forEach', params: { items: [1, 2], body } })).ok).toBe(true);
    const two = { nodes: [...body.nodes, { id: 'other', type: 'log', params: { message: 'x' } }] };
    expect(problems(withNode({ id: 'loop', type: 'forEach', params: { items: [1], body: two } }))).toContainEqual(
      expect.objectContaining({ code: 'body_entry', nodeId: 'loop' }),
    );
  });

  it('reports a template with bad syntax', () => {
    expect(problems(withNode({ id: 'say', type: 'log', params: { message: 'total {{ 1 + }}' } }))).toEqual([
      expect.objectContaining({ code: 'invalid_template', nodeId: 'say', field: 'params.message' }),
    ]);
    expect(problems(withNode({ id: 'branch', type: 'if', params: { condition: 'a >' } }))).toContainEqual(
      expect.objectContaining({ code: 'invalid_template', nodeId: 'branch', field: 'params.condition' }),
    );
  });

  it('requires when on if edges and forbids fan-out elsewhere', () => {
    const spec = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'check', type: 'if', params: { condition: 'true' } },
        { id: 'a', type: 'end' },
        { id: 'b', type: 'end' },
      ],
      edges: [
        { from: 'start', to: 'check' },
        { from: 'check', to: 'a' },
        { from: 'check', to: 'b', when: 'false' },
      ],
    };
    expect(problems(spec)).toContainEqual(expect.objectContaining({ code: 'branch', field: 'edges[1].when' }));
    const fan = { ...ok, edges: [...ok.edges, { from: 'start', to: 'end' }] };
    expect(problems(fan)).toContainEqual(expect.objectContaining({ code: 'branch', nodeId: 'start' }));
  });

  it('reports duplicate ids, a missing start and a bad onError', () => {
    const dup = { nodes: [...ok.nodes, { id: 'greet', type: 'end' }], edges: ok.edges };
    expect(problems(dup)).toContainEqual(expect.objectContaining({ code: 'duplicate_id', nodeId: 'greet' }));
    expect(problems({ nodes: [{ id: 'a', type: 'end' }] })).toContainEqual(expect.objectContaining({ code: 'no_start' }));
    const badJump = withNode({ id: 'x', type: 'log', params: { message: 'x' }, onError: 'nowhere' });
    expect(problems(badJump)).toContainEqual(expect.objectContaining({ code: 'on_error', nodeId: 'x', field: 'onError' }));
  });

  it('names the node by id for schema errors such as a bad node id or timeout', () => {
    const p = problems({ ...ok, nodes: [ok.nodes[0], { ...ok.nodes[1], timeoutMs: -5 }, ok.nodes[2]] });
    expect(p).toEqual([expect.objectContaining({ code: 'schema', nodeId: 'greet', field: 'timeoutMs' })]);
  });

  it('reports every problem at once, not just the first', () => {
    const spec = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'a', type: 'nope' },
        { id: 'b', type: 'browser.fill', params: { selector: '#x' } },
        { id: 'c', type: 'log', params: { message: 'c' } },
      ],
      edges: [
        { from: 'start', to: 'a' },
        { from: 'a', to: 'b' },
        { from: 'b', to: 'zzz' },
      ],
    };
    const codes = problems(spec).map((p) => p.code).sort();
    expect(codes).toEqual(['dangling_edge', 'missing_param', 'unknown_type', 'unreachable']);
  });
});

describe('loadWorkflow', () => {
  const yaml = `apiVersion: rpa.dev/v1alpha1
kind: Workflow
metadata: {name: hello}
spec:
  inputs: {name: {type: string, default: world}}
  nodes:
    - {id: start, type: start}
    - {id: greet, type: log, params: {message: "Hello {{name}}"}}
    - {id: end, type: end}
  edges: [{from: start, to: greet}, {from: greet, to: end}]
`;

  it('reads the same manifest from YAML and from JSON', () => {
    const fromYaml = loadWorkflow(yaml);
    const fromJson = loadWorkflow(JSON.stringify(fromYaml));
    expect(fromJson).toEqual(fromYaml);
    expect(fromYaml.metadata.name).toBe('hello');
    expect(fromYaml.spec.inputs.name?.default).toBe('world');
  });

  it('accepts a bare spec and names it after the file', () => {
    expect(loadWorkflow(JSON.stringify(ok), 'x.json', 'quick').metadata.name).toBe('quick');
  });

  it('rejects another kind, a bad name and invalid graphs with the problems listed', () => {
    expect(() => loadWorkflow(yaml.replace('kind: Workflow', 'kind: Robot'))).toThrow(/not a Workflow manifest[\s\S]*kind/);
    expect(() => loadWorkflow(yaml.replace('name: hello', 'name: Hello_World'))).toThrow(/metadata.name/);
    try {
      loadWorkflow(yaml.replace('type: log', 'type: lg'), 'hello.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ManifestError);
      expect((err as ManifestError).message).toContain('node "greet" type: unknown node type "lg"');
    }
  });

  it('rejects malformed YAML and multi-document files', () => {
    expect(() => loadWorkflow('nodes: [')).toThrow(ManifestError);
    expect(() => loadWorkflow(`${yaml}---\n${yaml}`)).toThrow(/expected one document/);
  });
});
