export * from './auth.js'
export * from './client.js'
export * from './http.js'
export * from './reference.js'
