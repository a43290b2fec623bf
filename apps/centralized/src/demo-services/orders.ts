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

/** One line of an order, priced when the order was placed. */
export interface OrderItem {
  productId: number
  name: string
  quantity: number
  unitPrice: number
  lineTotal: number
}

/** An order of the demo orders service; it references a user and products by id. */
export interface Order {
  id: number
  userId: number
  items: OrderItem[]
  total: number
  currency: 'EUR'
  status: 'pending' | 'paid' | 'shipped'
  createdAt: string
}

/** How the orders service finds the users and products an order references. */
export interface OrderReferences {
  /** Resolves to the user, or `undefined` when there is no such user; rejects when the lookup failed. */
  user(id: number): Promise<{ id: number } | undefined>
  /** Resolves to the product, or `undefined` when there is no such product; rejects when the lookup failed. */
  product(id: number): Promise<{ id: number; name: string; price: number } | undefined>
}

/**
 * References resolved over HTTP against the users and products services, as a real orders service would
 * (service-to-service, not through the gateway).
 */
export function httpReferences(usersUrl: string, productsUrl: string, timeoutMs = 2000): OrderReferences {
  const get = async <T>(base: string, path: string): Promise<T | undefined> => {
    const res = await fetch(base.replace(/\/+$/, '') + path, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (res.status === 404) {
      await res.body?.cancel()
      return undefined
    }
    if (!res.ok) {
      await res.body?.cancel()
      throw new Error(`GET ${path} answered ${res.status}`)
    }
    return (await res.json()) as T
  }
  return {
    user: (id) => get(usersUrl, `/users/${id}`),
    product: (id) => get(productsUrl, `/products/${id}`),
  }
}

function seedOrders(): Order[] {
  return [
    {
      id: 1,
      userId: 2,
      items: [{ productId: 1, name: 'Mechanical keyboard', quantity: 1, unitPrice: 89.99, lineTotal: 89.99 }],
      total: 89.99,
      currency: 'EUR',
      status: 'shipped',
      createdAt: '2024-02-01T10:30:00.000Z',
    },
    {
      id: 2,
      userId: 3,
      items: [
        { productId: 3, name: '27" 4K monitor', quantity: 2, unitPrice: 329, lineTotal: 658 },
        { productId: 2, name: 'Wireless mouse', quantity: 1, unitPrice: 29.5, lineTotal: 29.5 },
      ],
      total: 687.5,
      currency: 'EUR',
      status: 'paid',
      createdAt: '2024-02-03T16:05:00.000Z',
    },
  ]
}

const cents = (amount: number): number => Math.round(amount * 100)

/**
 * The orders service's routes over a fresh in-memory store:
 * - `GET /orders` (`?userId=`, `?status=`, `?limit=`, `?offset=`)
 * - `GET /orders/:id` (404 problem when unknown)
 * - `POST /orders` `{ userId, items: [{ productId, quantity }] }` -> 201 with prices and total taken from the
 *   products service (422 when invalid or when the user or a product does not exist, 502 when a lookup fails)
 */
export function ordersRoutes(refs: OrderReferences): DemoRoute[] {
  const orders = seedOrders()
  let nextId = orders.length + 1
  return [
    {
      method: 'GET',
      pattern: '/orders',
      handle({ res, query }) {
        const userId = query.get('userId')
        const status = query.get('status')
        const matching = orders.filter(
          (o) => (userId === null || String(o.userId) === userId) && (status === null || o.status === status),
        )
        sendJson(res, 200, paginate(matching, query))
      },
    },
    getByIdRoute('/orders/:id', orders, 'Order'),
    {
      method: 'POST',
      pattern: '/orders',
      async handle({ req, res }) {
        const body = await readJsonObject(req, res)
        if (body === undefined) return
        const errors: FieldError[] = []
        const userId = check.integer(body.userId, 'userId', errors, 1, Number.MAX_SAFE_INTEGER)
        const lines: { productId: number; quantity: number }[] = []
        if (!Array.isArray(body.items) || body.items.length === 0 || body.items.length > 20) {
          errors.push({ field: 'items', message: 'required, an array of 1 to 20 { productId, quantity }' })
        } else {
          body.items.forEach((item: unknown, i: number) => {
            const entry = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>
            const productId = check.integer(
              entry.productId,
              `items[${i}].productId`,
              errors,
              1,
              Number.MAX_SAFE_INTEGER,
            )
            const quantity = check.integer(entry.quantity, `items[${i}].quantity`, errors, 1, 100)
            if (productId !== undefined && quantity !== undefined) lines.push({ productId, quantity })
          })
        }
        if (errors.length > 0 || userId === undefined) return sendValidationProblem(res, errors)

        let user: Awaited<ReturnType<OrderReferences['user']>>
        let products: Awaited<ReturnType<OrderReferences['product']>>[]
        try {
          ;[user, products] = await Promise.all([
            refs.user(userId),
            Promise.all(lines.map((line) => refs.product(line.productId))),
          ])
        } catch (error) {
          return sendProblem(
            res,
            502,
            `Could not look up the order's user or products: ${(error as Error).message}`,
          )
        }
        if (user === undefined) errors.push({ field: 'userId', message: `user ${userId} does not exist` })
        const items: OrderItem[] = []
        lines.forEach((line, i) => {
          const product = products[i]
          if (product === undefined) {
            errors.push({
              field: `items[${i}].productId`,
              message: `product ${line.productId} does not exist`,
            })
            return
          }
          const unit = cents(product.price)
          items.push({
            productId: line.productId,
            name: product.name,
            quantity: line.quantity,
            unitPrice: unit / 100,
            lineTotal: (unit * line.quantity) / 100,
          })
        })
        if (errors.length > 0) return sendValidationProblem(res, errors)
        const order: Order = {
          id: nextId++,
          userId,
          items,
          total: items.reduce((sum, item) => sum + cents(item.lineTotal), 0) / 100,
          currency: 'EUR',
          status: 'pending',
          createdAt: new Date().toISOString(),
        }
        orders.push(order)
        sendJson(res, 201, order)
      },
    },
  ]
}

/** Starts the demo orders service on 127.0.0.1 (ephemeral port unless given). */
export function startOrdersService(
  refs: OrderReferences,
  options: { host?: string; port?: number } = {},
): Promise<DemoService> {
  return startDemoService('orders', ordersRoutes(refs), options)
}
