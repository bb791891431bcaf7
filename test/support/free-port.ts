export { freePort } from '../../libs/session/src/testing';
