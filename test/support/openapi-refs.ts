/** A node of an OpenAPI document with every `$ref` (a `#/...` pointer into the same document) replaced by its target. */
export function inlineRefs(doc: any, node: any): any {
  if (Array.isArray(node)) return node.map((n) => inlineRefs(doc, n));
  if (!node || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') {
    return inlineRefs(
      doc,
      node.$ref
        .slice(2)
        .split('/')
        .reduce((o: any, k: string) => o[k], doc),
    );
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inlineRefs(doc, v)]));
}
