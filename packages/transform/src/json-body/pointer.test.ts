import { describe, expect, it } from 'vitest'
import { getAt, type Json, parsePointer, pick, pointerProblem, removeAt, setAt } from './pointer.js'

describe('JSON Pointer (RFC 6901)', () => {
  const doc = (): Json => ({ foo: ['bar', 'baz'], '': 0, 'a/b': 1, 'm~n': 8, nested: { x: { y: 1 } } })

  it('parses and resolves the RFC examples', () => {
    expect(parsePointer('')).toEqual([])
    expect(getAt(doc(), parsePointer('/foo'))).toEqual(['bar', 'baz'])
    expect(getAt(doc(), parsePointer('/foo/0'))).toBe('bar')
    expect(getAt(doc(), parsePointer('/'))).toBe(0)
    expect(getAt(doc(), parsePointer('/a~1b'))).toBe(1)
    expect(getAt(doc(), parsePointer('/m~0n'))).toBe(8)
    expect(getAt(doc(), parsePointer('/foo/01'))).toBeUndefined()
    expect(getAt(doc(), parsePointer('/foo/2'))).toBeUndefined()
    expect(getAt(doc(), parsePointer('/foo/0/x'))).toBeUndefined()
    expect(getAt(doc(), parsePointer('/toString'))).toBeUndefined()
  })

  it('reports invalid pointers', () => {
    expect(pointerProblem('foo')).toMatch(/start with/)
    expect(pointerProblem('/a~2')).toMatch(/escaped/)
    expect(pointerProblem('/a~1~0')).toBeUndefined()
    expect(() => parsePointer('x')).toThrow(/invalid JSON Pointer/)
  })

  it('sets values, creating objects and appending with -', () => {
    const d = doc()
    setAt(d, ['nested', 'new', 'deep'], true)
    setAt(d, ['foo', '-'], 'qux')
    setAt(d, ['foo', '0'], 'BAR')
    expect(getAt(d, ['nested', 'new'])).toEqual({ deep: true })
    expect(getAt(d, ['foo'])).toEqual(['BAR', 'baz', 'qux'])
    expect(setAt(d, [], 5)).toBe(5)
    expect(setAt(d, ['foo', '9'], 'x')).toBe(d)
    expect(getAt(d, ['foo'])).toHaveLength(3)
  })

  it('never pollutes prototypes', () => {
    const d = JSON.parse('{"a":{}}') as Json
    setAt(d, ['__proto__', 'polluted'], true)
    setAt(d, ['a', '__proto__'], { polluted: true })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(getAt(d, ['a']))).toBe(Object.prototype)
  })

  it('removes values and splices arrays', () => {
    const d = doc()
    expect(removeAt(d, ['foo', '0'])).toBe('bar')
    expect(getAt(d, ['foo'])).toEqual(['baz'])
    expect(removeAt(d, ['nested', 'x', 'y'])).toBe(1)
    expect(removeAt(d, ['missing', 'x'])).toBeUndefined()
    expect(removeAt(d, [])).toBeUndefined()
  })

  it('picks values into a new document', () => {
    const source: Json = { id: 1, user: { name: 'a', secret: 's' }, list: [{ a: 1, b: 2 }, { a: 3 }] }
    expect(pick(source, [['id'], ['user', 'name'], ['missing']])).toEqual({ id: 1, user: { name: 'a' } })
    expect(pick(source, [['list', '1', 'a']])).toEqual({ list: [{ a: 3 }] })
    expect(pick(source, [[]])).toBe(source)
  })
})
