"""Helpers the annotation workspace's pages share; none of them is a view (those are in
``datasets_app/pages/``): ``editor_state`` (the editor's form <-> canonical messages),
``keyset`` (cursor pagination and sorts of the example list), ``markdown`` (the one place that
marks HTML safe) and ``home`` (the datasets panel of the team home page, registered in
``DatasetsConfig.ready``)."""
