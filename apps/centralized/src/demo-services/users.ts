import {
  check,
  type DemoRoute,
  type DemoService,
  type FieldError,
  getByIdRoute,
  paginate,
  readJsonObject,
  sendJson,
  sendProblem,
  sendValidationProblem,
  startDemoService,
} from './http-kit.js'

/** A user of the demo users service. */
export interface User {
  id: number
  name: string
  email: string
  role: 'customer' | 'admin'
  createdAt: string
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const ROLES: readonly User['role'][] = ['customer', 'admin']

function seedUsers(): User[] {
  const createdAt = '2024-01-15T09:00:00.000Z'
  return [
    { id: 1, name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin', createdAt },
    { id: 2, name: 'Alan Turing', email: 'alan@example.com', role: 'customer', createdAt },
    { id: 3, name: 'Grace Hopper', email: 'grace@example.com', role: 'customer', createdAt },
  ]
}

/**
 * The users service's routes over a fresh in-memory store:
 * - `GET /users` (`?role=`, `?limit=`, `?offset=`)
 * - `GET /users/:id` (404 problem when unknown)
 * - `POST /users` `{ name, email, role? }` -> 201 (422 when invalid, 409 when the email is taken)
 */
export function usersRoutes(): DemoRoute[] {
  const users = seedUsers()
  let nextId = users.length + 1
  return [
    {
      method: 'GET',
      pattern: '/users',
      handle({ res, query }) {
        const role = query.get('role')
        sendJson(res, 200, paginate(role === null ? users : users.filter((u) => u.role === role), query))
      },
    },
    getByIdRoute('/users/:id', users, 'User'),
    {
      method: 'POST',
      pattern: '/users',
      async handle({ req, res }) {
        const body = await readJsonObject(req, res)
        if (body === undefined) return
        const errors: FieldError[] = []
        const name = check.string(body, 'name', errors, 100)
        const email = check.string(body, 'email', errors, 254)?.toLowerCase()
        if (email !== undefined && !EMAIL.test(email))
          errors.push({ field: 'email', message: 'not an email address' })
        const role = body.role ?? 'customer'
        if (!ROLES.includes(role as User['role']))
          errors.push({ field: 'role', message: `one of ${ROLES.join(', ')}` })
        if (errors.length > 0 || name === undefined || email === undefined)
          return sendValidationProblem(res, errors)
        if (users.some((u) => u.email === email))
          return sendProblem(res, 409, `A user with email ${email} already exists`)
        const user: User = {
          id: nextId++,
          name,
          email,
          role: role as User['role'],
          createdAt: new Date().toISOString(),
        }
        users.push(user)
        sendJson(res, 201, user)
      },
    },
  ]
}

/** Starts the demo users service on 127.0.0.1 (ephemeral port unless given). */
export function startUsersService(options: { host?: string; port?: number } = {}): Promise<DemoService> {
  return startDemoService('users', usersRoutes(), options)
}
