namespace berth::ocispec {}
