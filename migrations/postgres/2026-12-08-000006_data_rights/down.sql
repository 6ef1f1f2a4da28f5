DROP INDEX ratings_visitor;
DROP INDEX bans_visitor;
DROP INDEX offline_messages_visitor;
DROP TABLE agent_tallies;
