import {
  check,
  type DemoRoute,
  type DemoService,
  type FieldError,
  getByIdRoute,
  paginate,
  readJsonObject,
  sendJson,
  sendValidationProblem,
  startDemoService,
} from './http-kit.js'

/** A product of the demo products service. Prices are in the currency's major unit with two decimals. */
export interface Product {
  id: number
  name: string
  category: string
  price: number
  currency: 'EUR'
  stock: number
}

function seedProducts(): Product[] {
  return [
    { id: 1, name: 'Mechanical keyboard', category: 'peripherals', price: 89.99, currency: 'EUR', stock: 25 },
    { id: 2, name: 'Wireless mouse', category: 'peripherals', price: 29.5, currency: 'EUR', stock: 120 },
    { id: 3, name: '27" 4K monitor', category: 'displays', price: 329, currency: 'EUR', stock: 8 },
    { id: 4, name: 'USB-C dock', category: 'accessories', price: 119.9, currency: 'EUR', stock: 40 },
  ]
}

/**
 * Product reads are the same for every caller: `public` lets a shared cache (the gateway's, behind
 * authentication) store them, for 60 s as the origin says; writes through the gateway invalidate them.
 */
const PUBLIC = { 'cache-control': 'public, max-age=60' }

/**
 * The products service's routes over a fresh in-memory store:
 * - `GET /products` (`?category=`, `?limit=`, `?offset=`)
 * - `GET /products/:id` (404 problem when unknown)
 * - `POST /products` `{ name, price, category?, stock? }` -> 201 (422 when invalid)
 */
export function productsRoutes(): DemoRoute[] {
  const products = seedProducts()
  let nextId = products.length + 1
  return [
    {
      method: 'GET',
      pattern: '/products',
      handle({ res, query }) {
        const category = query.get('category')
        const matching = category === null ? products : products.filter((p) => p.category === category)
        sendJson(res, 200, paginate(matching, query), PUBLIC)
      },
    },
    getByIdRoute('/products/:id', products, 'Product', PUBLIC),
    {
      method: 'POST',
      pattern: '/products',
      async handle({ req, res }) {
        const body = await readJsonObject(req, res)
        if (body === undefined) return
        const errors: FieldError[] = []
        const name = check.string(body, 'name', errors, 200)
        const category = body.category === undefined ? 'general' : check.string(body, 'category', errors, 50)
        const price = body.price
        if (typeof price !== 'number' || !Number.isFinite(price) || price <= 0 || price > 1_000_000) {
          errors.push({ field: 'price', message: 'required, a number greater than 0 and at most 1000000' })
        } else if (Math.round(price * 100) !== Number((price * 100).toFixed(6))) {
          errors.push({ field: 'price', message: 'at most two decimals' })
        }
        const stock = body.stock === undefined ? 0 : check.integer(body.stock, 'stock', errors, 0, 1_000_000)
        if (errors.length > 0 || name === undefined || category === undefined || stock === undefined) {
          return sendValidationProblem(res, errors)
        }
        const product: Product = {
          id: nextId++,
          name,
          category,
          price: price as number,
          currency: 'EUR',
          stock,
        }
        products.push(product)
        sendJson(res, 201, product)
      },
    },
  ]
}

/** Starts the demo products service on 127.0.0.1 (ephemeral port unless given). */
export function startProductsService(options: { host?: string; port?: number } = {}): Promise<DemoService> {
  return startDemoService('products', productsRoutes(), options)
}
