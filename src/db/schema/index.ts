export * from './access';
export * from './reports';
export * from './checks';
export * from './senders';
export * from './metrics';
export * from './tls';
export * from './alerts';
