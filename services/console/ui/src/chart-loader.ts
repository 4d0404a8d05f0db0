import { h } from './dom.js';

/**
 * Chart.js for the dashboard: the console serves its UMD build at /console/vendor/chart.umd.js
 * (a classic script defining window.Chart), loaded on first use so the other pages never pay
 * for it. Only the part of its API the dashboard uses is typed here. It styles canvases through
 * the CSSOM, which the console's CSP (style-src 'self') allows.
 */

export interface ChartDataset {
  label: string;
  data: number[];
  backgroundColor?: string | string[];
  borderColor?: string | string[];
  borderWidth?: number;
  fill?: boolean;
  tension?: number;
}

export interface ChartConfig {
  type: 'bar' | 'line' | 'doughnut';
  data: { labels: string[]; datasets: ChartDataset[] };
  options?: Record<string, unknown>;
}

export interface ChartInstance {
  destroy(): void;
}

export type ChartConstructor = new (canvas: HTMLCanvasElement, config: ChartConfig) => ChartInstance;

declare global {
  interface Window {
    Chart?: ChartConstructor;
  }
}

export const CHART_JS_URL = '/console/vendor/chart.umd.js';

let loading: Promise<ChartConstructor> | undefined;

/** window.Chart, loading the script once; rejects when it cannot be loaded (tried again next time). */
export function loadChartJs(): Promise<ChartConstructor> {
  if (window.Chart !== undefined) return Promise.resolve(window.Chart);
  loading ??= new Promise<ChartConstructor>((resolve, reject) => {
    const script = h('script', { src: CHART_JS_URL });
    script.addEventListener('load', () => {
      if (window.Chart !== undefined) resolve(window.Chart);
      else reject(new Error('Chart.js did not load'));
    });
    script.addEventListener('error', () => {
      loading = undefined;
      script.remove();
      reject(new Error('Chart.js could not be loaded'));
    });
    document.head.append(script);
  });
  return loading;
}
