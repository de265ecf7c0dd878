/**
 * The subset of JSON Schema (draft-07) and of the Kubernetes OpenAPI v3 schemas that the chart's
 * values.schema.json and the CRDs use: type, properties, additionalProperties, required, enum,
 * items, minimum, maximum, minLength, pattern, $ref to #/definitions, and
 * x-kubernetes-preserve-unknown-fields. Returns the violations ([] when valid).
 */
type Schema = Record<string, any>;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function validate(schema: Schema, value: unknown, root: Schema = schema, path = '$'): string[] {
  if (typeof schema['$ref'] === 'string') {
    const ref = schema['$ref'] as string;
    const m = /^#\/definitions\/(.+)$/.exec(ref);
    if (m === null) return [`${path}: unsupported $ref ${ref}`];
    return validate(root['definitions'][m[1] as string] as Schema, value, root, path);
  }
  const errors: string[] = [];
  const actual = typeOf(value);
  if (schema['type'] !== undefined) {
    const types: string[] = Array.isArray(schema['type']) ? schema['type'] : [schema['type']];
    const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
    if (!ok) return [`${path}: ${actual} is not ${types.join(' or ')}`];
  }
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value))
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema['enum'])}`);
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum'])
      errors.push(`${path}: ${value} < ${schema['minimum']}`);
    if (typeof schema['maximum'] === 'number' && value > schema['maximum'])
      errors.push(`${path}: ${value} > ${schema['maximum']}`);
  }
  if (typeof value === 'string') {
    if (typeof schema['minLength'] === 'number' && value.length < schema['minLength'])
      errors.push(`${path}: shorter than ${schema['minLength']}`);
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value))
      errors.push(`${path}: does not match ${schema['pattern']}`);
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of (schema['required'] as string[] | undefined) ?? [])
      if (!(key in object)) errors.push(`${path}: ${key} is required`);
    const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
    for (const [key, v] of Object.entries(object)) {
      if (key in properties) errors.push(...validate(properties[key] as Schema, v, root, `${path}.${key}`));
      else if (schema['additionalProperties'] === false) errors.push(`${path}: unknown property ${key}`);
      else if (typeof schema['additionalProperties'] === 'object')
        errors.push(...validate(schema['additionalProperties'] as Schema, v, root, `${path}.${key}`));
      else if (
        schema['properties'] !== undefined &&
        schema['additionalProperties'] === undefined &&
        schema['x-kubernetes-preserve-unknown-fields'] !== true &&
        root['$schema'] === undefined
      ) {
        // A structural Kubernetes schema prunes unknown fields: report them as a validator would.
        errors.push(`${path}: unknown field ${key} (pruned by the API server)`);
      }
    }
  }
  if (actual === 'array' && schema['items'] !== undefined) {
    (value as unknown[]).forEach((item, i) =>
      errors.push(...validate(schema['items'] as Schema, item, root, `${path}[${i}]`)),
    );
  }
  return errors;
}
