"""Import of news articles: feeds, submitted URLs, files and text; fetching, extraction,
de-duplication, analysis and proposals that staff review (app label "ingest")."""
