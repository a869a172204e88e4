/**
 * The Apache-like index page of the log server: Name / Last modified / Size, a Parent Directory
 * link, and APF's footer. Every interpolated value goes through `esc()`; links are relative
 * (`encodeURIComponent` of the name) so that the same page works under `/` and `/logs/`.
 */
import { esc } from '../web/router.ts';
import { formatListingDate, formatSize, type Listing } from './listing.ts';

/** What the page shows. */
export interface ListingPage {
  /** The decoded path shown in the title (`/2024-05-01/Q/`). */
  readonly title: string;
  /** Absolute, already-encoded href of the parent directory; undefined at the root. */
  readonly parentHref: string | undefined;
  readonly listing: Listing;
  /** Footer: `apf at <host> Port <port>`. */
  readonly host: string;
  readonly port: number;
}

/** Renders the index page. */
export function renderListing(page: ListingPage): string {
  const rows: string[] = [];
  if (page.parentHref !== undefined) {
    rows.push(`<tr><td><a href="${esc(page.parentHref)}">Parent Directory</a></td><td>&nbsp;</td><td class="s">-</td></tr>`);
  }
  for (const e of page.listing.entries) {
    const shown = e.isDir ? `${e.name}/` : e.name;
    const href = encodeURIComponent(e.name) + (e.isDir ? '/' : '');
    rows.push(
      `<tr><td><a href="${esc(href)}">${esc(shown)}</a></td><td>${esc(formatListingDate(e.mtimeMs))}</td><td class="s">${esc(e.isDir ? '-' : formatSize(e.size))}</td></tr>`,
    );
  }
  if (page.listing.omitted > 0) {
    rows.push(`<tr><td colspan="3">${esc(page.listing.omitted)} more entries not shown</td></tr>`);
  }
  return [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>Index of ${esc(page.title)}</title>`,
    '<style>td,th{padding:0 1em 0 0;text-align:left;font-family:monospace}.s{text-align:right}</style>',
    '</head><body>',
    `<h1>Index of ${esc(page.title)}</h1>`,
    '<table>',
    '<tr><th>Name</th><th>Last modified</th><th class="s">Size</th></tr>',
    '<tr><th colspan="3"><hr></th></tr>',
    ...rows,
    '<tr><th colspan="3"><hr></th></tr>',
    '</table>',
    `<address>apf at ${esc(page.host)} Port ${esc(page.port)}</address>`,
    '</body></html>',
    '',
  ].join('\n');
}
