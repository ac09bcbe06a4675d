"""The 2018 study, reproduced: how its TensorFlow port cut, ran, pasted and saved a test image,
and what that did to its figures. Pure functions on arrays, on the product's recipe steps
(srcnn.pipeline: bicubic planes, the network, back to colour) wherever our input is meant; never
the path a real output takes (that is srcnn.pipeline.upscale). Nothing here holds threads or
caches beyond loaded models.

- ``stitching``: the port's 33x33 patches at stride 14, its ``merge`` (the overlap shown twice),
  the study's overlap-removed fix, and scores of each against the ground truth;
- ``original``: the port's whole test path with its own checkpoint (luma, blur, patches, save);
- ``walk``: from that saved file's PSNR to the truth, one cause at a time
  (``python -m srcnn study PHOTO --scale 3``);
- ``insight``: what the app's "Inside the study" tab shows, computed in pure parts (the app
  runs them side by side and keeps the views: ui.views).
"""
