"""Reading articles: decoding, normalisation, sentence and clause segmentation."""
