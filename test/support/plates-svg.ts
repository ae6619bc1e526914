import sharp from 'sharp';
import type { RgbImage } from '../../src/inference/image.js';

export interface SvgPlate {
  text: string;
  banner?: string;
  x: number;
  y: number;
  width: number;
}

/**
 * Renders a simple synthetic plate scene with librsvg (through sharp): enough for tests that
 * must not depend on the Python generator. Synthetic texts only, never real plates.
 */
export async function renderPlateScene(plates: SvgPlate[], width = 1280, height = 720): Promise<RgbImage> {
  const body = plates
    .map((p) => {
      const h = p.width / 2;
      return `<rect x="${p.x}" y="${p.y}" width="${p.width}" height="${h}" rx="${p.width / 30}" fill="#f2f2ee" stroke="#333" stroke-width="${p.width / 80}"/>
        ${p.banner ? `<text x="${p.x + p.width / 2}" y="${p.y + h * 0.27}" font-family="DejaVu Sans" font-style="italic" font-size="${h * 0.2}" fill="#b02020" text-anchor="middle">${p.banner}</text>` : ''}
        <text x="${p.x + p.width / 2}" y="${p.y + h * 0.8}" font-family="DejaVu Sans" font-weight="bold" font-size="${h * 0.46}" fill="#18285e" text-anchor="middle">${p.text}</text>`;
    })
    .join('\n');
  const svg = `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><rect width="${width}" height="${height}" fill="#4a4d50"/>${body}</svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}
