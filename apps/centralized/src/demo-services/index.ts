export { type DemoService, startDemoService } from './http-kit.js'
export {
  httpReferences,
  type Order,
  type OrderItem,
  type OrderReferences,
  ordersRoutes,
  startOrdersService,
} from './orders.js'
export { type Product, productsRoutes, startProductsService } from './products.js'
export { startUsersService, type User, usersRoutes } from './users.js'
