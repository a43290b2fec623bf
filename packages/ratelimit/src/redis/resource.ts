declare module '@gw/core' {
  interface Resources {
    redis: import('ioredis').Redis | import('ioredis').Cluster
  }
}

export {}
