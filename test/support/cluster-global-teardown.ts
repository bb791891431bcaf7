import { clusterGlobalTeardown } from './cluster-global-setup';

export default clusterGlobalTeardown;
