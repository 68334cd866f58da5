"""The public loaders: each provider's loaders with the ``store=`` option added.

The provider modules define the loaders (store-free); :func:`recanalytics.incremental.with_store`
adds ``store=``. This is the list of public loader names, one pair per registered loader.
"""

from __future__ import annotations

from recanalytics.incremental import with_store
from recanalytics.providers import plivo, signalwire, twilio, twilio_compositions, zoom
from recanalytics.sync import syncify

aload_twilio_recordings = with_store(twilio.LOADER)
aload_twilio_compositions = with_store(twilio_compositions.LOADER)
aload_plivo_recordings = with_store(plivo.LOADER)
aload_zoom_recordings = with_store(zoom.LOADER)
aload_signalwire_recordings = with_store(signalwire.LOADER)

load_twilio_recordings = syncify(aload_twilio_recordings, "load_twilio_recordings")
load_twilio_compositions = syncify(aload_twilio_compositions, "load_twilio_compositions")
load_plivo_recordings = syncify(aload_plivo_recordings, "load_plivo_recordings")
load_zoom_recordings = syncify(aload_zoom_recordings, "load_zoom_recordings")
load_signalwire_recordings = syncify(aload_signalwire_recordings, "load_signalwire_recordings")
