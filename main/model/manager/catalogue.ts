/**
 * The pretrained weight files Effitune knows: the Keras applications ImageNet weights for
 * EfficientNet B0..B7 and V2 (B0..B3, S, M, L), each with and without the classifier ("_notop").
 *
 * URLs and MD5 checksums are those Keras itself uses (keras/src/applications/efficientnet.py and
 * efficientnet_v2.py: BASE_WEIGHTS_PATH + file name, WEIGHTS_HASHES[variant] = (top, notop)).
 * Keras checks them with keras.utils.get_file, which takes a 32-character hash as MD5.
 */
import type { LocalWeights, PretrainedFile } from '../../contract/calls-models';
import { getVariant } from '../variants';

/** A published file as the catalogue holds it: the contract's PretrainedFile without the cache status, plus its format. */
export interface PublishedWeightsFile extends Readonly<Omit<PretrainedFile, 'local'>> {
  readonly format: 'keras-h5';
}

export const KERAS_V1_BASE_URL = 'https://storage.googleapis.com/keras-applications/';
export const KERAS_V2_BASE_URL = 'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/';

/** [top, notop] MD5 per variant, copied from Keras' WEIGHTS_HASHES. */
const V1_HASHES: Record<string, [string, string]> = {
  b0: ['902e53a9f72be733fc0bcb005b3ebbac', '50bc09e76180e00e4465e1a485ddc09d'],
  b1: ['1d254153d4ab51201f1646940f018540', '74c4e6b3e1f6a1eea24c589628592432'],
  b2: ['b15cce36ff4dcbd00b6dd88e7857a6ad', '111f8e2ac8aa800a7a99e3239f7bfb39'],
  b3: ['ffd1fdc53d0ce67064dc6a9c7960ede0', 'af6d107764bb5b1abb91932881670226'],
  b4: ['18c95ad55216b8f92d7e70b3a046e2fc', 'ebc24e6d6c33eaebbd558eafbeedf1ba'],
  b5: ['ace28f2a6363774853a83a0b21b9421a', '38879255a25d3c92d5e44e04ae6cec6f'],
  b6: ['165f6e37dce68623721b423839de8be5', '9ecce42647a20130c1f39a5d4cb75743'],
  b7: ['8c03f828fec3ef71311cd463b6759d99', 'cbcfe4450ddf6f3ad90b1b398090fe4a'],
};

const V2_HASHES: Record<string, [string, string]> = {
  b0: ['21ecbf6da12460d5c40bb2f29ceb2188', '893217f2bb855e2983157299931e43ff'],
  b1: ['069f0534ff22adf035c89e2d9547a9dc', '0e80663031ca32d657f9caa404b6ec37'],
  b2: ['424e49f28180edbde1e94797771950a7', '1dfe2e7a5d45b6632553a8961ea609eb'],
  b3: ['1f1fc43bd98a6e4fd8fdfd551e02c7a0', 'f6abf7b5849ac99a89b50dd3fd532856'],
  s: ['e1d88a8495beba45748fedd0cecbe016', 'af0682fb74e8c54910f2d4393339c070'],
  m: ['a3bf6aa3276309f4fc6a34aa114c95cd', '1b8dc055df72dde80d614482840fe342'],
  l: ['27e6d408b53c7ebc868fefa357689935', 'b0b66b5c863aef5b46e8608fe1711615'],
};

function files(variant: string, stem: string, baseUrl: string, [top, notop]: [string, string]): PublishedWeightsFile[] {
  return [
    { variant, includeTop: true, fileName: `${stem}.h5`, url: `${baseUrl}${stem}.h5`, md5: top, format: 'keras-h5' },
    { variant, includeTop: false, fileName: `${stem}_notop.h5`, url: `${baseUrl}${stem}_notop.h5`, md5: notop, format: 'keras-h5' },
  ];
}

export const PRETRAINED_FILES: readonly PublishedWeightsFile[] = [
  ...Object.entries(V1_HASHES).flatMap(([n, hashes]) => files(n, `efficientnet${n}`, KERAS_V1_BASE_URL, hashes)),
  ...Object.entries(V2_HASHES).flatMap(([n, hashes]) => files(`v2-${n}`, `efficientnetv2-${n}`, KERAS_V2_BASE_URL, hashes)),
];

/**
 * The catalogue with every URL moved to another base (a mirror holding the same file names, or a
 * test server). Checksums stay the published ones, so a mirror cannot hand over different bytes.
 */
export function catalogueAt(baseUrl: string | undefined, catalogue: readonly PublishedWeightsFile[] = PRETRAINED_FILES): readonly PublishedWeightsFile[] {
  if (!baseUrl) return catalogue;
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return catalogue.map((f) => ({ ...f, url: `${base}${f.fileName}` }));
}

/** The published file for a variant (any alias getVariant accepts), or null when there is none (custom φ). */
export function findPretrained(catalogue: readonly PublishedWeightsFile[], variant: string, includeTop: boolean): PublishedWeightsFile | null {
  const id = getVariant(variant).id;
  return catalogue.find((f) => f.variant === id && f.includeTop === includeTop) ?? null;
}

export function findPretrainedByMd5(catalogue: readonly PublishedWeightsFile[], md5: string): PublishedWeightsFile | null {
  return catalogue.find((f) => f.md5 === md5.toLowerCase()) ?? null;
}

/** The published files, each marked with whether the cache already holds it (by MD5). */
export function catalogueWithStatus(catalogue: readonly PublishedWeightsFile[], local: readonly LocalWeights[]): PretrainedFile[] {
  const md5s = new Set(local.map((w) => w.md5));
  return catalogue.map((f) => ({ variant: f.variant, includeTop: f.includeTop, fileName: f.fileName, url: f.url, md5: f.md5, local: md5s.has(f.md5) }));
}
