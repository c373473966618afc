import { packageFile } from '../../infra/package-assets.js';
import type { ChartLibrary } from './render/pages.js';

/** uPlot (MIT), from the installed package: the pages serve or inline it, never a CDN. */
export const UPLOT_JS = 'uplot/dist/uPlot.iife.min.js';
export const UPLOT_CSS = 'uplot/dist/uPlot.min.css';

export const chartLibrary = (): ChartLibrary => ({ js: packageFile(UPLOT_JS), css: packageFile(UPLOT_CSS) });
