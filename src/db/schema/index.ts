export * from './access';
export * from './reports';
