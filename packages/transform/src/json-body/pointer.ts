/**
 * A parsed JSON Pointer (RFC 6901): its reference tokens, unescaped.
 *
 * @example
 * ```ts
 * const pointer: Pointer = parsePointer('/data/0')
 * ```
 */
export type Pointer = readonly string[]

/**
 * JSON values as `JSON.parse` returns them.
 *
 * @example
 * ```ts
 * const doc: Json = JSON.parse('{"a":[1]}') as Json
 * ```
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

type Container = Json[] | { [key: string]: Json }

/**
 * Parses a JSON Pointer (RFC 6901) such as `/data/items/0/a~1b`; `''` is the whole document.
 *
 * @example
 * ```ts
 * parsePointer('/a~1b/0') // ['a/b', '0']
 * ```
 */
export function parsePointer(pointer: string): Pointer {
  const problem = pointerProblem(pointer)
  if (problem !== undefined) throw new Error(`invalid JSON Pointer '${pointer}': ${problem}`)
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
}

/**
 * Why a string is not a JSON Pointer, or `undefined` when it is one.
 *
 * @example
 * ```ts
 * pointerProblem('a') // "must be '' or start with '/'"
 * ```
 */
export function pointerProblem(pointer: string): string | undefined {
  if (pointer !== '' && !pointer.startsWith('/')) return "must be '' or start with '/'"
  if (/~(?![01])/.test(pointer)) return "'~' must be escaped as '~0' ('/' as '~1')"
  return undefined
}

function isContainer(value: Json | undefined): value is Container {
  return typeof value === 'object' && value !== null
}

function arrayIndex(token: string, length: number, forInsert: boolean): number | undefined {
  if (forInsert && token === '-') return length
  if (!/^(0|[1-9]\d*)$/.test(token)) return undefined
  const index = Number(token)
  return index < length || (forInsert && index === length) ? index : undefined
}

function child(container: Container, token: string): Json | undefined {
  if (Array.isArray(container)) {
    const index = arrayIndex(token, container.length, false)
    return index === undefined ? undefined : container[index]
  }
  return Object.hasOwn(container, token) ? container[token] : undefined
}

function assign(container: Container, token: string, value: Json): boolean {
  if (Array.isArray(container)) {
    const index = arrayIndex(token, container.length, true)
    if (index === undefined) return false
    container[index] = value
    return true
  }
  Object.defineProperty(container, token, { value, writable: true, enumerable: true, configurable: true })
  return true
}

/**
 * Reads the value at a pointer, or `undefined` when a token does not resolve.
 *
 * @example
 * ```ts
 * getAt({ a: [1, 2] }, ['a', '1']) // 2
 * ```
 */
export function getAt(doc: Json, pointer: Pointer): Json | undefined {
  let current: Json | undefined = doc
  for (const token of pointer) {
    if (!isContainer(current)) return undefined
    current = child(current, token)
  }
  return current
}

/**
 * Sets the value at a pointer, creating missing intermediate objects, and returns the (possibly new) root.
 * `-` appends to an array. A pointer through a scalar leaves the document unchanged.
 *
 * @example
 * ```ts
 * setAt({}, ['meta', 'id'], 'r1') // { meta: { id: 'r1' } }
 * ```
 */
export function setAt(doc: Json, pointer: Pointer, value: Json): Json {
  if (pointer.length === 0) return value
  let current: Json | undefined = doc
  for (let i = 0; i < pointer.length - 1; i++) {
    if (!isContainer(current)) return doc
    const token = pointer[i]!
    let next = child(current, token)
    if (next === undefined) {
      next = {}
      if (!assign(current, token, next)) return doc
    }
    current = next
  }
  if (isContainer(current)) assign(current, pointer[pointer.length - 1]!, value)
  return doc
}

/**
 * Removes the value at a pointer (splicing arrays) and returns it, or `undefined` when absent.
 *
 * @example
 * ```ts
 * const doc = { a: 1, b: 2 }
 * removeAt(doc, ['a']) // 1; doc is { b: 2 }
 * ```
 */
export function removeAt(doc: Json, pointer: Pointer): Json | undefined {
  if (pointer.length === 0) return undefined
  const parent = getAt(doc, pointer.slice(0, -1))
  if (!isContainer(parent)) return undefined
  const token = pointer[pointer.length - 1]!
  const value = child(parent, token)
  if (value === undefined) return undefined
  if (Array.isArray(parent)) parent.splice(Number(token), 1)
  else delete parent[token]
  return value
}

/**
 * Builds a new document holding only the values at the given pointers (missing ones are left out).
 * Containers on the way keep their kind; picked array elements keep their order and the gaps close.
 *
 * @example
 * ```ts
 * pick({ id: 1, name: 'a', secret: 'x' }, [['id'], ['name']]) // { id: 1, name: 'a' }
 * ```
 */
export function pick(doc: Json, pointers: readonly Pointer[]): Json {
  let out: Json = Array.isArray(doc) ? [] : {}
  for (const pointer of pointers) {
    const value = getAt(doc, pointer)
    if (value === undefined) continue
    if (pointer.length === 0) return doc
    let target: Json = out
    let source: Json = doc
    for (let i = 0; i < pointer.length - 1; i++) {
      const token = pointer[i]!
      source = child(source as Container, token)!
      let next = child(target as Container, token)
      if (next === undefined) {
        next = Array.isArray(source) ? [] : {}
        setChild(target as Container, token, next)
      }
      target = next
    }
    setChild(target as Container, pointer[pointer.length - 1]!, value)
  }
  if (Array.isArray(out)) out = out.filter((v) => v !== undefined)
  return compactArrays(out)
}

function setChild(container: Container, token: string, value: Json): void {
  if (Array.isArray(container)) container[Number(token)] = value
  else
    Object.defineProperty(container, token, { value, writable: true, enumerable: true, configurable: true })
}

function compactArrays(value: Json): Json {
  if (Array.isArray(value)) {
    const out: Json[] = []
    for (const item of value) if (item !== undefined) out.push(compactArrays(item))
    return out
  }
  if (isContainer(value)) for (const key of Object.keys(value)) value[key] = compactArrays(value[key]!)
  return value
}
