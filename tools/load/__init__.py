"""The parts of ``python -m tools.load_test`` (the entry point: its options and the sections' order).

- :mod:`~tools.load.server`: the app in a subprocess (:class:`~tools.load.server.Server`: its temp
  folder, log, CPU and memory) and :class:`~tools.load.server.MemorySampler`;
- :mod:`~tools.load.clients`: ``gradio_client`` clients of their own, requests and their states;
- :mod:`~tools.load.page`: events sent the way the browser sends them (the page's zoom event);
- :mod:`~tools.load.photos`: the photos sent (seeded photo-like ones; held-out real ones);
- :mod:`~tools.load.report`: the tables' headers, the cells' formats and the closing summary;
- one module per section: :mod:`~tools.load.burst`, :mod:`~tools.load.gone`,
  :mod:`~tools.load.small`, :mod:`~tools.load.temp`, :mod:`~tools.load.sigterm`,
  :mod:`~tools.load.soak`; and :mod:`~tools.load.memory` (``--memory-parts``, in-process).
"""
